"""What running the server in production needs: health and readiness, Prometheus metrics, drain on SIGTERM."""
