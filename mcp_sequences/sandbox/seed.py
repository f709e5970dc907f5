"""Seed data: realistic B2B outreach sequences so the sandbox is useful at once.

Ids are fixed and createdAt values distinct, so listings are deterministic.
"""

from __future__ import annotations

from typing import Any

MAYA = {
    "id": "6650a1b2c3d4e5f601234501",
    "name": "Maya Patel",
    "email": "maya.patel@northwind-saas.com",
}
DANIEL = {
    "id": "6650a1b2c3d4e5f601234502",
    "name": "Daniel Okafor",
    "email": "daniel.okafor@northwind-saas.com",
}
SOFIA = {
    "id": "6650a1b2c3d4e5f601234503",
    "name": "Sofia Lindqvist",
    "email": "sofia.lindqvist@northwind-saas.com",
}

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
NEW_YORK_HOURS = {
    "timezone": "America/New_York",
    "days": WEEKDAYS,
    "startTime": "09:00",
    "endTime": "17:00",
}
PACIFIC_HOURS = {
    "timezone": "America/Los_Angeles",
    "days": WEEKDAYS,
    "startTime": "08:30",
    "endTime": "16:30",
}
LONDON_HOURS = {
    "timezone": "Europe/London",
    "days": ["tue", "wed", "thu"],
    "startTime": "10:00",
    "endTime": "16:00",
}

SALES_FROM = {"name": "Northwind Sales", "email": "sales@northwind-saas.com"}
SUCCESS_FROM = {"name": "Northwind Customer Success", "email": "success@northwind-saas.com"}

SEED_SEQUENCES: list[dict[str, Any]] = [
    {
        "id": "6650b0000000000000000001",
        "name": "Q1 Enterprise Outbound - VP Sales",
        "code": "ENT-Q1-VPS",
        "type": "mixed",
        "status": "active",
        "priority": "high",
        "owner": MAYA,
        "emailFrom": {"name": "Maya Patel", "email": "maya.patel@northwind-saas.com"},
        "schedule": NEW_YORK_HOURS,
        "maxContacts": 500,
        "tags": ["enterprise", "outbound", "q1-2026"],
        "template": "enterprise-intro-v3",
        "startDate": "2026-01-12",
        "endDate": "2026-03-31",
        "deleted": "false",
        "steps": [
            {
                "order": 1,
                "type": "email",
                "delayDays": 0,
                "subject": "Cutting pipeline leakage at {{company}}",
                "template": "enterprise-intro-v3",
            },
            {
                "order": 2,
                "type": "linkedin",
                "delayDays": 2,
                "body": "Connection request referencing the intro email",
            },
            {
                "order": 3,
                "type": "email",
                "delayDays": 4,
                "subject": "How Fabrikam cut forecast misses by 31%",
                "template": "case-study-fabrikam",
            },
            {
                "order": 4,
                "type": "call",
                "delayDays": 3,
                "body": "Discovery call: current CRM stack and renewal date",
            },
            {
                "order": 5,
                "type": "email",
                "delayDays": 7,
                "subject": "Should I close your file?",
                "template": "breakup-v2",
            },
        ],
        "contacts": [
            {
                "id": "c-1001",
                "email": "laura.chen@contoso.com",
                "name": "Laura Chen",
                "status": "active",
            },
            {
                "id": "c-1002",
                "email": "raj.mehta@fabrikam.io",
                "name": "Raj Mehta",
                "status": "replied",
            },
            {
                "id": "c-1003",
                "email": "t.nguyen@adatum.com",
                "name": "Thao Nguyen",
                "status": "active",
            },
        ],
        "createdAt": "2025-12-01T14:05:00.000Z",
        "updatedAt": "2026-01-15T09:12:00.000Z",
    },
    {
        "id": "6650b0000000000000000002",
        "name": "Webinar Follow-up: CRM Automation 101",
        "code": "WEB-FU-0126",
        "type": "email",
        "status": "active",
        "priority": "medium",
        "owner": DANIEL,
        "emailFrom": SALES_FROM,
        "schedule": PACIFIC_HOURS,
        "maxContacts": 2000,
        "tags": ["webinar", "nurture", "inbound"],
        "template": "webinar-followup",
        "startDate": "2026-01-27",
        "endDate": "2026-02-28",
        "deleted": "false",
        "steps": [
            {
                "order": 1,
                "type": "email",
                "delayDays": 0,
                "subject": "Slides and recording: CRM Automation 101",
                "template": "webinar-recording",
            },
            {
                "order": 2,
                "type": "email",
                "delayDays": 3,
                "subject": "3 automations teams set up first",
                "template": "webinar-tips",
            },
            {
                "order": 3,
                "type": "email",
                "delayDays": 5,
                "subject": "Want a 20-minute workflow review?",
                "template": "webinar-meeting-ask",
            },
        ],
        "contacts": [
            {
                "id": "c-2001",
                "email": "mark.jensen@litware.com",
                "name": "Mark Jensen",
                "status": "active",
            },
            {
                "id": "c-2002",
                "email": "ana.souza@wingtiptoys.com",
                "name": "Ana Souza",
                "status": "unsubscribed",
            },
        ],
        "createdAt": "2025-12-08T16:30:00.000Z",
        "updatedAt": "2026-01-27T08:00:00.000Z",
    },
    {
        "id": "6650b0000000000000000003",
        "name": "Mid-Market Re-engagement",
        "code": "MM-REENG",
        "type": "mixed",
        "status": "paused",
        "priority": "medium",
        "owner": SOFIA,
        "emailFrom": SALES_FROM,
        "schedule": NEW_YORK_HOURS,
        "maxContacts": 750,
        "tags": ["re-engagement", "mid-market"],
        "template": "reengage-checkin",
        "startDate": "2026-02-02",
        "endDate": "2026-04-30",
        "deleted": "false",
        "steps": [
            {
                "order": 1,
                "type": "email",
                "delayDays": 0,
                "subject": "Still evaluating CRM options?",
                "template": "reengage-checkin",
            },
            {
                "order": 2,
                "type": "task",
                "delayDays": 2,
                "body": "Check for new stakeholders on the account",
            },
            {
                "order": 3,
                "type": "call",
                "delayDays": 3,
                "body": "Re-open conversation; mention the new pricing tiers",
            },
            {
                "order": 4,
                "type": "email",
                "delayDays": 6,
                "subject": "What changed since we last spoke",
                "template": "reengage-whats-new",
            },
        ],
        "contacts": [
            {
                "id": "c-3001",
                "email": "kwame.asante@tailspin.com",
                "name": "Kwame Asante",
                "status": "paused",
            },
            {
                "id": "c-3002",
                "email": "e.rossi@proseware.it",
                "name": "Elena Rossi",
                "status": "bounced",
            },
            {
                "id": "c-3003",
                "email": "j.park@alpineski.com",
                "name": "Jisoo Park",
                "status": "paused",
            },
        ],
        "createdAt": "2025-12-15T10:45:00.000Z",
        "updatedAt": "2026-02-20T13:30:00.000Z",
    },
    {
        "id": "6650b0000000000000000004",
        "name": "Trial-to-Paid Conversion",
        "code": "TRIAL-CONV",
        "type": "mixed",
        "status": "active",
        "priority": "high",
        "owner": DANIEL,
        "emailFrom": SUCCESS_FROM,
        "schedule": PACIFIC_HOURS,
        "maxContacts": 1500,
        "tags": ["product-led", "trial", "conversion"],
        "template": "trial-day-7",
        "startDate": "2026-01-05",
        "endDate": "2026-12-31",
        "deleted": "false",
        "steps": [
            {
                "order": 1,
                "type": "email",
                "delayDays": 7,
                "subject": "Your trial: 3 features worth trying this week",
                "template": "trial-day-7",
            },
            {
                "order": 2,
                "type": "call",
                "delayDays": 3,
                "body": "Offer an onboarding session before the trial ends",
            },
            {
                "order": 3,
                "type": "email",
                "delayDays": 3,
                "subject": "Your trial ends in 48 hours",
                "template": "trial-ending",
            },
        ],
        "contacts": [
            {
                "id": "c-4001",
                "email": "omar.haddad@blueyonder.ae",
                "name": "Omar Haddad",
                "status": "active",
            },
            {
                "id": "c-4002",
                "email": "grace.kim@lucernepub.com",
                "name": "Grace Kim",
                "status": "completed",
            },
            {
                "id": "c-4003",
                "email": "pavel.novak@woodgrove.cz",
                "name": "Pavel Novak",
                "status": "active",
            },
            {
                "id": "c-4004",
                "email": "fiona.walsh@coho.ie",
                "name": "Fiona Walsh",
                "status": "replied",
            },
        ],
        "createdAt": "2025-12-22T09:00:00.000Z",
        "updatedAt": "2026-01-05T07:45:00.000Z",
    },
    {
        "id": "6650b0000000000000000005",
        "name": "Partner Channel Intro - EMEA",
        "code": "PARTNER-EMEA",
        "type": "mixed",
        "status": "draft",
        "priority": "low",
        "owner": SOFIA,
        "emailFrom": {"name": "Sofia Lindqvist", "email": "sofia.lindqvist@northwind-saas.com"},
        "schedule": LONDON_HOURS,
        "maxContacts": 150,
        "tags": ["partners", "emea", "channel"],
        "template": "partner-intro",
        "startDate": "2026-03-02",
        "endDate": "2026-06-30",
        "deleted": "false",
        "steps": [
            {
                "order": 1,
                "type": "linkedin",
                "delayDays": 0,
                "body": "Intro note about the reseller programme",
            },
            {
                "order": 2,
                "type": "email",
                "delayDays": 3,
                "subject": "Partner margins and co-selling support",
                "template": "partner-intro",
            },
        ],
        "contacts": [
            {"id": "c-5001", "email": "h.mueller@fourthcoffee.de", "name": "Hannah Mueller"},
            {"id": "c-5002", "email": "lucas.martin@margie-travel.fr", "name": "Lucas Martin"},
        ],
        "createdAt": "2026-01-06T11:20:00.000Z",
        "updatedAt": "2026-01-06T11:20:00.000Z",
    },
    {
        "id": "6650b0000000000000000006",
        "name": "Customer Expansion: Analytics Add-on",
        "code": "EXP-ANALYTICS",
        "type": "email",
        "status": "completed",
        "priority": "medium",
        "owner": MAYA,
        "emailFrom": SUCCESS_FROM,
        "schedule": NEW_YORK_HOURS,
        "maxContacts": 300,
        "tags": ["expansion", "upsell", "customers"],
        "template": "analytics-addon",
        "startDate": "2026-01-05",
        "endDate": "2026-02-13",
        "deleted": "false",
        "steps": [
            {
                "order": 1,
                "type": "email",
                "delayDays": 0,
                "subject": "Dashboards your team asked for",
                "template": "analytics-addon",
            },
            {
                "order": 2,
                "type": "email",
                "delayDays": 5,
                "subject": "See your own pipeline data in Analytics",
                "template": "analytics-demo",
            },
            {
                "order": 3,
                "type": "task",
                "delayDays": 4,
                "body": "Flag engaged accounts to their CSM",
            },
        ],
        "contacts": [
            {
                "id": "c-6001",
                "email": "ben.carter@trey-research.com",
                "name": "Ben Carter",
                "status": "completed",
            },
            {
                "id": "c-6002",
                "email": "mei.lin@graphicdesigninstitute.com",
                "name": "Mei Lin",
                "status": "completed",
            },
        ],
        "createdAt": "2026-01-13T15:10:00.000Z",
        "updatedAt": "2026-02-14T18:00:00.000Z",
    },
    {
        "id": "6650b0000000000000000007",
        "name": "Event Invite: SaaS Connect 2026",
        "code": "EVT-SAASCONNECT",
        "type": "email",
        "status": "archived",
        "priority": "low",
        "owner": MAYA,
        "emailFrom": SALES_FROM,
        "schedule": NEW_YORK_HOURS,
        "maxContacts": 1000,
        "tags": ["events", "field-marketing"],
        "template": "event-invite",
        "startDate": "2026-02-02",
        "endDate": "2026-02-27",
        "deleted": "false",
        "steps": [
            {
                "order": 1,
                "type": "email",
                "delayDays": 0,
                "subject": "Join us at SaaS Connect, booth 214",
                "template": "event-invite",
            },
            {
                "order": 2,
                "type": "email",
                "delayDays": 7,
                "subject": "Book a 15-minute slot at the booth",
                "template": "event-meeting-ask",
            },
        ],
        "contacts": [
            {
                "id": "c-7001",
                "email": "sam.ortiz@relecloud.com",
                "name": "Sam Ortiz",
                "status": "completed",
            },
            {
                "id": "c-7002",
                "email": "nina.petrova@adventure-works.com",
                "name": "Nina Petrova",
                "status": "completed",
            },
        ],
        "createdAt": "2026-01-20T12:00:00.000Z",
        "updatedAt": "2026-03-02T10:00:00.000Z",
    },
]


def realistic_copies(count: int) -> list[dict[str, Any]]:
    """`count` sequences as full as the seed's (steps, contacts, schedule, owner), each with its own name.

    For measuring what a page of real-sized sequences costs (tests/test_budgets.py, benchmarks/bench.py).
    """
    return [
        {key: value for key, value in SEED_SEQUENCES[n % len(SEED_SEQUENCES)].items() if key != "id"}
        | {"name": f"{SEED_SEQUENCES[n % len(SEED_SEQUENCES)]['name']} #{n}"}
        for n in range(count)
    ]
