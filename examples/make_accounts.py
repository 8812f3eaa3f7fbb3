"""Generate the bundled example CRM export ``examples/accounts.csv``.

tierwise ships one example input so that its documentation, demos and tests have a
realistic file to grade.  This script is the single source of that file: it invents
about 300 B2B company accounts (no real companies) and writes them the way a CRM
export usually looks, mess included:

* UTF-8 with a byte-order mark, RFC 4180 quoting and CRLF line endings (as Excel or
  a CRM's "export to CSV" writes them);
* inconsistent spelling of categories (case, stray spaces), empty cells, numbers
  with thousands separators or a dollar sign, several spellings of booleans,
  company names with commas, with non-ASCII letters and, for a few, with an accent
  written in decomposed Unicode (NFD);
* exactly seven rows carrying a value that cannot be parsed (three in Employees,
  two in Annual Revenue, two in Last Activity), which a correct engine must reject.

Every draw comes from one ``random.Random`` seeded with a constant, and nothing
depends on hash order, so re-running the script gives a byte-identical file::

    python examples/make_accounts.py            # rewrites examples/accounts.csv
    python examples/make_accounts.py -o out.csv # writes elsewhere

``examples/README.md`` documents the deliberate messes and the Account IDs of the
rows meant to be rejected; update it whenever the seed or the rules here change.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

SEED = 20261201
AS_OF = date(2026, 12, 1)
EARLIEST = date(2026, 5, 1)
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "accounts.csv"

HEADER = (
    "Account ID",
    "Account Name",
    "Website",
    "Industry",
    "Country",
    "Employees",
    "Annual Revenue",
    "Technologies",
    "Web Visits (30d)",
    "Last Activity",
    "Is Customer",
    "Segment",
)

# How many accounts of each latent quality are generated (300 in all).  The tier is
# never written out; it only steers the distributions so that the file holds a
# spread of strong, medium and weak accounts.
TIER_COUNTS = {"strong": 60, "medium": 105, "weak": 135}

INDUSTRIES = (
    "Software",
    "Fintech",
    "Healthcare IT",
    "Manufacturing",
    "Retail",
    "Logistics",
    "Education",
    "Media",
    "Government",
)
COUNTRIES = (
    "United States",
    "Canada",
    "United Kingdom",
    "Germany",
    "France",
    "Netherlands",
    "Australia",
    "Brazil",
    "India",
    "Japan",
)
TECHNOLOGIES = (
    "Salesforce",
    "HubSpot",
    "Marketo",
    "Snowflake",
    "Segment",
    "Zendesk",
    "Intercom",
    "AWS",
    "Azure",
    "Google Cloud",
    "Slack",
    "Stripe",
)

INDUSTRY_WEIGHTS = {
    "strong": (45, 30, 25, 0, 0, 0, 0, 0, 0),
    "medium": (3, 2, 2, 2, 2, 2, 1, 1, 1),
    "weak": (1, 1, 1, 2, 3, 2, 3, 3, 3),
}
COUNTRY_WEIGHTS = {
    "strong": (80, 20, 0, 0, 0, 0, 0, 0, 0, 0),
    "medium": (55, 9, 9, 7, 4, 4, 5, 2, 3, 2),
    "weak": (45, 6, 9, 7, 6, 5, 5, 6, 7, 4),
}
# Government accounts only come from countries with an English naming scheme below.
GOVERNMENT_COUNTRIES = (
    "United States",
    "Canada",
    "United Kingdom",
    "Australia",
    "India",
)
HEADCOUNT_RANGE = {"strong": (800, 50_000), "medium": (100, 6_000), "weak": (5, 800)}
GOVERNMENT_MIN_HEADCOUNT = 40
# Share of activity dates falling 0-30, 31-90 and 91-214 days before AS_OF.
RECENCY_WEIGHTS = {"strong": (80, 20, 0), "medium": (30, 50, 20), "weak": (5, 25, 70)}
RECENCY_BANDS = ((0, 30), (31, 90), (91, (AS_OF - EARLIEST).days))
# Mean of the exponential web-visit draw, and a floor added to it.
VISITS = {"strong": (90.0, 30), "medium": (30.0, 3), "weak": (6.0, 0)}
# Chance that each technology appears in an account's stack.
TECH_ODDS = {
    "strong": (0.85, 0.2, 0.35, 0.6, 0.5, 0.3, 0.25, 0.6, 0.2, 0.2, 0.6, 0.3),
    "medium": (0.45, 0.35, 0.2, 0.25, 0.2, 0.25, 0.2, 0.4, 0.2, 0.15, 0.45, 0.2),
    "weak": (0.1, 0.3, 0.05, 0.03, 0.03, 0.1, 0.08, 0.15, 0.1, 0.1, 0.25, 0.15),
}
REVENUE_PER_EMPLOYEE = {
    "Software": 210_000,
    "Fintech": 320_000,
    "Healthcare IT": 180_000,
    "Manufacturing": 260_000,
    "Retail": 170_000,
    "Logistics": 220_000,
    "Education": 90_000,
    "Media": 160_000,
    "Government": 130_000,
}

# Segment bands by headcount: SMB below 200, Mid-Market below 2,000, else Enterprise.
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SEGMENT_LIMITS = (200, 2_000)

# Exact numbers of rows carrying each deliberate mess (see examples/README.md).
BAD_EMPLOYEES = ("approx 500", "lots", "several hundred")
BAD_REVENUE = ("unknown revenue", "see notes")
BAD_DATES = ("2026-13-01", "last week")
EMPTY_INDUSTRY, RESPELT_INDUSTRY = 12, 60
EMPTY_COUNTRY, RESPELT_COUNTRY = 9, 24
EMPTY_EMPLOYEES, NA_EMPLOYEES = 15, 3
EMPTY_REVENUE, DASH_REVENUE, NA_REVENUE = 24, 3, 3
EMPTY_TECHNOLOGIES, RECASED_TECHNOLOGIES = 30, 20
EMPTY_VISITS = 30
EMPTY_ACTIVITY = 36
EMPTY_CUSTOMER, CUSTOMERS = 15, 32
EMPTY_SEGMENT, WRONG_SEGMENT, RECASED_SEGMENT = 15, 6, 30

CUSTOMER_YES = ("yes", "Y", "true", "1")
CUSTOMER_NO = ("no", "N", "FALSE", "0")
TECH_SEPARATORS = (";", "; ", " ; ", " ;", ";  ")
TECH_SEPARATOR_WEIGHTS = (4, 4, 1, 1, 1)

# Invented name roots: a first part glued to a place-like ending ("Quillgate").
ROOT_HEADS = (
    "Quill",
    "Bracken",
    "Halden",
    "Marrow",
    "Orrin",
    "Calder",
    "Tessel",
    "Vinter",
    "Lark",
    "Thistle",
    "Corvin",
    "Fallow",
    "Hollis",
    "Kestrel",
    "Merrin",
    "Pellan",
    "Sorrel",
    "Tamber",
    "Umber",
    "Vesper",
    "Yarrow",
    "Brindle",
    "Elden",
    "Garrow",
    "Ingle",
)
ROOT_TAILS = (
    "mark",
    "gate",
    "field",
    "wick",
    "vale",
    "stone",
    "brook",
    "ford",
    "ridge",
    "haven",
    "moor",
    "crest",
    "well",
    "bridge",
    "worth",
    "mere",
    "holt",
    "combe",
    "ley",
    "dale",
)
DESCRIPTORS = {
    "Software": ("Software", "Systems", "Labs", "Analytics", "Cloud", "Data", "AI"),
    "Fintech": ("Pay", "Payments", "Ledger", "Lending", "Financial Technologies"),
    "Healthcare IT": (
        "Health",
        "Health Systems",
        "Medical Informatics",
        "Care Technologies",
        "Clinical Data",
    ),
    "Manufacturing": (
        "Manufacturing",
        "Industries",
        "Precision",
        "Components",
        "Metalworks",
    ),
    "Retail": ("Outfitters", "Goods", "Market", "Home", "Apparel", "Stores"),
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport", "Distribution"),
    "Education": ("Learning", "Academy", "Education", "College", "Tutoring"),
    "Media": ("Media", "Studios", "Publishing", "Broadcasting", "Press"),
}
LEGAL_SUFFIXES = {
    "United States": ("Inc.", ", Inc.", "LLC", ", LLC", "Corp.", "", ""),
    "Canada": ("Inc.", ", Inc.", "Ltd.", "Corp.", ""),
    "United Kingdom": ("Ltd", "Ltd.", "Limited", "plc", ""),
    "Germany": ("GmbH", "AG", "GmbH & Co. KG"),
    "France": ("SAS", "SA", "SARL"),
    "Netherlands": ("B.V.", "B.V.", "N.V."),
    "Australia": ("Pty Ltd", ", Pty Ltd", "Pty Ltd"),
    "Brazil": ("Ltda.", "S.A."),
    "India": ("Pvt. Ltd.", "Private Limited", "Ltd."),
    "Japan": ("K.K.", ", Co., Ltd.", "Co., Ltd."),
}
TOP_LEVEL_DOMAINS = {
    "United States": (".com", ".com", ".com", ".io", ".co"),
    "Canada": (".ca", ".com"),
    "United Kingdom": (".co.uk", ".co.uk", ".com"),
    "Germany": (".de", ".de", ".com"),
    "France": (".fr", ".fr", ".com"),
    "Netherlands": (".nl", ".nl", ".com"),
    "Australia": (".com.au", ".com.au", ".com"),
    "Brazil": (".com.br",),
    "India": (".in", ".co.in", ".com"),
    "Japan": (".co.jp", ".jp", ".com"),
}
# Government bodies: name pattern and website pattern, by country.
GOVERNMENT_NAMES = {
    "United States": (
        ("City of {root}", "cityof{slug}.gov"),
        ("{root} County", "{slug}county.gov"),
        ("{root} Regional Transit Authority", "{slug}transit.gov"),
        ("{root} Water District", "{slug}water.gov"),
    ),
    "Canada": (("City of {root}", "{slug}.ca"), ("Town of {root}", "{slug}.ca")),
    "United Kingdom": (
        ("{root} Borough Council", "{slug}.gov.uk"),
        ("{root} District Council", "{slug}.gov.uk"),
    ),
    "Australia": (("{root} Shire Council", "{slug}.gov.au"),),
    "India": (("{root} Municipal Corporation", "{slug}mc.gov.in"),),
}


@dataclass(frozen=True)
class Special:
    """A hand-written account with a non-ASCII name."""

    name: str
    website: str
    industry: str
    country: str
    tier: str
    decomposed: bool = False


# Names with letters outside ASCII.  The three marked ``decomposed`` are written
# with "e" followed by U+0301 COMBINING ACUTE ACCENT instead of the single code point
# U+00E9, so that the engine's Unicode normalization is exercised.
SPECIALS = (
    Special(
        "Zürich Datenwerk GmbH", "zuerich-datenwerk.de", "Software", "Germany", "medium"
    ),
    Special("Société Lumière", "societe-lumiere.fr", "Media", "France", "weak"),
    Special(
        "Kölner Frachtkontor GmbH",
        "koelner-frachtkontor.de",
        "Logistics",
        "Germany",
        "medium",
    ),
    Special(
        "Grünwald Präzisionstechnik AG",
        "gruenwald-praezision.de",
        "Manufacturing",
        "Germany",
        "weak",
    ),
    Special(
        "Logística Paulista Ltda.",
        "logisticapaulista.com.br",
        "Logistics",
        "Brazil",
        "weak",
    ),
    Special(
        "Educação Aberta S.A.", "educacaoaberta.com.br", "Education", "Brazil", "weak"
    ),
    Special(
        "Kōbe Seimitsu K.K.", "kobe-seimitsu.co.jp", "Manufacturing", "Japan", "medium"
    ),
    Special(
        "Atelier Numérique SAS",
        "atelier-numerique.fr",
        "Software",
        "France",
        "medium",
        True,
    ),
    Special("Crédit Agile SA", "credit-agile.fr", "Fintech", "France", "medium", True),
    Special(
        "Médica Sistemas Ltda.",
        "medicasistemas.com.br",
        "Healthcare IT",
        "Brazil",
        "weak",
        True,
    ),
)


@dataclass
class Account:
    """The true, clean attributes of one invented account, before any mess."""

    tier: str
    name: str
    website: str
    industry: str
    country: str
    employees: int
    revenue: int
    technologies: list[str]
    web_visits: int
    days_since_activity: int


def weighted(rng: random.Random, options: Sequence[str], weights: Sequence[int]) -> str:
    """Draw one option with the given relative weights."""
    return rng.choices(options, weights=weights)[0]


def round_to(value: float, significant: int) -> int:
    """Round a positive number to a number of significant digits."""
    digits = significant - 1 - math.floor(math.log10(value))
    return int(round(value, digits))


def draw_headcount(rng: random.Random, tier: str, industry: str) -> int:
    """Draw a log-uniform headcount; larger ones are often rounded, as CRMs show."""
    low, high = HEADCOUNT_RANGE[tier]
    if industry == "Government":
        low = max(low, GOVERNMENT_MIN_HEADCOUNT)
    count = round(math.exp(rng.uniform(math.log(low), math.log(high))))
    if count >= 100 and rng.random() < 0.6:
        count = round_to(count, 2)
    return max(5, min(50_000, count))


def draw_revenue(rng: random.Random, industry: str, employees: int) -> int:
    """Derive yearly revenue in US dollars from industry and headcount."""
    per_head = REVENUE_PER_EMPLOYEE[industry] * rng.lognormvariate(0.0, 0.4)
    return round_to(per_head * employees, rng.choice((2, 3)))


def draw_technologies(rng: random.Random, tier: str, industry: str) -> list[str]:
    """Pick a plausible technology stack, in no particular order."""
    odds = list(TECH_ODDS[tier])
    if industry in ("Fintech", "Retail"):
        odds[TECHNOLOGIES.index("Stripe")] += 0.4
    stack = [
        tech for tech, p in zip(TECHNOLOGIES, odds, strict=True) if rng.random() < p
    ]
    if not stack:
        stack = [rng.choice(TECHNOLOGIES)]
    rng.shuffle(stack)
    return stack


def draw_days_since_activity(rng: random.Random, tier: str) -> int:
    """Draw how many days before AS_OF the last activity happened."""
    low, high = rng.choices(RECENCY_BANDS, weights=RECENCY_WEIGHTS[tier])[0]
    return rng.randint(low, high)


def draw_web_visits(rng: random.Random, tier: str) -> int:
    """Draw a 30-day web-visit count between 0 and 400, skewed low."""
    mean, floor = VISITS[tier]
    return min(400, floor + int(rng.expovariate(1.0 / mean)))


def slug(text: str) -> str:
    """Turn a name into an ASCII domain label ("Quillgate Pay" -> "quillgate-pay")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore")
    words = "".join(c if c.isalnum() else " " for c in ascii_text.decode().lower())
    return "-".join(words.split())


def invent_name(rng: random.Random, industry: str, country: str) -> tuple[str, str]:
    """Invent a company name and its website domain."""
    root = rng.choice(ROOT_HEADS) + rng.choice(ROOT_TAILS)
    if industry == "Government":
        name_pattern, site_pattern = rng.choice(GOVERNMENT_NAMES[country])
        site = site_pattern.format(slug=slug(root).replace("-", ""))
        return name_pattern.format(root=root), site
    style = rng.random()
    if style < 0.15:
        base, label = root, slug(root)
    elif style < 0.22 and industry in ("Media", "Manufacturing", "Retail"):
        partner = rng.choice(ROOT_HEADS)
        base = f"{root} & {partner} {rng.choice(DESCRIPTORS[industry])}"
        label = slug(f"{root} {partner}")
    else:
        base = f"{root} {rng.choice(DESCRIPTORS[industry])}"
        label = slug(base)
        if rng.random() < 0.25:
            label = label.replace("-", "")
    suffix = rng.choice(LEGAL_SUFFIXES[country])
    name = base + suffix if suffix.startswith(",") else f"{base} {suffix}".strip()
    return name, label + rng.choice(TOP_LEVEL_DOMAINS[country])


def make_account(
    rng: random.Random,
    tier: str,
    industry: str,
    country: str,
    name: str,
    website: str,
) -> Account:
    """Draw the numeric attributes of an account of the given tier."""
    employees = draw_headcount(rng, tier, industry)
    return Account(
        tier=tier,
        name=name,
        website=website,
        industry=industry,
        country=country,
        employees=employees,
        revenue=draw_revenue(rng, industry, employees),
        technologies=draw_technologies(rng, tier, industry),
        web_visits=draw_web_visits(rng, tier),
        days_since_activity=draw_days_since_activity(rng, tier),
    )


def identity(name: str) -> str:
    """Key under which two names count as the same company."""
    return unicodedata.normalize("NFC", name).casefold()


def make_accounts(rng: random.Random) -> list[Account]:
    """Generate every account (specials included) in a shuffled order."""
    accounts: list[Account] = []
    taken_names: set[str] = set()
    taken_sites: set[str] = set()
    for special in SPECIALS:
        name = special.name
        if special.decomposed:
            name = name.replace("\u00e9", "e\u0301")
        accounts.append(
            make_account(
                rng,
                special.tier,
                special.industry,
                special.country,
                name,
                special.website,
            )
        )
        taken_names.add(identity(name))
        taken_sites.add(special.website)
    for tier, count in TIER_COUNTS.items():
        remaining = count - sum(1 for s in SPECIALS if s.tier == tier)
        for _ in range(remaining):
            industry = weighted(rng, INDUSTRIES, INDUSTRY_WEIGHTS[tier])
            if industry == "Government":
                country = rng.choice(GOVERNMENT_COUNTRIES)
            else:
                country = weighted(rng, COUNTRIES, COUNTRY_WEIGHTS[tier])
            while True:
                name, website = invent_name(rng, industry, country)
                if identity(name) not in taken_names and website not in taken_sites:
                    break
            taken_names.add(identity(name))
            taken_sites.add(website)
            accounts.append(make_account(rng, tier, industry, country, name, website))
    rng.shuffle(accounts)
    return accounts


def allot(
    rng: random.Random,
    rows: int,
    counts: Sequence[tuple[str, int]],
    exclude: Sequence[int] = (),
) -> dict[int, str]:
    """Give each of several messes to an exact, disjoint set of row indices."""
    pool = [i for i in range(rows) if i not in exclude]
    chosen = rng.sample(pool, sum(n for _, n in counts))
    marks: dict[int, str] = {}
    for kind, n in counts:
        for index in chosen[:n]:
            marks[index] = kind
        chosen = chosen[n:]
    return marks


def respell(rng: random.Random, value: str) -> str:
    """Spell a category the way a hand-typed field drifts: case and stray spaces."""
    styles: tuple[Callable[[str], str], ...] = (
        str.lower,
        str.upper,
        lambda s: f" {s} ",
        lambda s: f"{s} ",
        lambda s: f"  {s.lower()}",
    )
    return rng.choice(styles)(value)


def recase(rng: random.Random, value: str) -> str:
    """Change only the letter case of a value, never leaving it unchanged."""
    variants = [v for v in (value.lower(), value.upper(), value.title()) if v != value]
    return rng.choice(variants)


def segment_of(employees: int) -> int:
    """Index into SEGMENTS of the segment that a headcount belongs to."""
    return sum(1 for limit in SEGMENT_LIMITS if employees >= limit)


def format_employees(rng: random.Random, employees: int) -> str:
    """Write a headcount, sometimes with a thousands separator."""
    if employees >= 1_000 and rng.random() < 0.35:
        return f"{employees:,}"
    return str(employees)


def format_revenue(rng: random.Random, revenue: int) -> str:
    """Write revenue as plain digits, as "$12,500,000" or as "12500000.00"."""
    style = rng.choices(("plain", "dollar", "decimal"), weights=(5, 3, 2))[0]
    if style == "dollar":
        return f"${revenue:,}"
    if style == "decimal":
        return f"{revenue}.00"
    return str(revenue)


def format_technologies(rng: random.Random, stack: list[str], recased: bool) -> str:
    """Join a stack with drifting separators; maybe mangle one name's case."""
    items = list(stack)
    if recased:
        position = rng.randrange(len(items))
        items[position] = recase(rng, items[position])
    separator = weighted(rng, TECH_SEPARATORS, TECH_SEPARATOR_WEIGHTS)
    text = items[0]
    for item in items[1:]:
        step = rng.choice(TECH_SEPARATORS) if rng.random() < 0.1 else separator
        text += step + item
    return text


def render(rng: random.Random, accounts: list[Account]) -> list[list[str]]:
    """Turn clean accounts into messy CRM-export rows."""
    n = len(accounts)
    # The rows meant to be rejected: distinct, one unparseable value each, and never
    # one of the non-ASCII names, which are there to be graded.
    rejected = rng.sample(
        [i for i, account in enumerate(accounts) if account.name.isascii()],
        len(BAD_EMPLOYEES + BAD_REVENUE + BAD_DATES),
    )
    first_revenue = len(BAD_EMPLOYEES)
    first_date = first_revenue + len(BAD_REVENUE)
    bad_employees = dict(zip(rejected[:first_revenue], BAD_EMPLOYEES, strict=True))
    bad_revenue = dict(
        zip(rejected[first_revenue:first_date], BAD_REVENUE, strict=True)
    )
    bad_dates = dict(zip(rejected[first_date:], BAD_DATES, strict=True))
    industry = allot(
        rng, n, (("", EMPTY_INDUSTRY), ("respelt", RESPELT_INDUSTRY)), rejected
    )
    country = allot(
        rng, n, (("", EMPTY_COUNTRY), ("respelt", RESPELT_COUNTRY)), rejected
    )
    employees = allot(rng, n, (("", EMPTY_EMPLOYEES), ("n/a", NA_EMPLOYEES)), rejected)
    revenue = allot(
        rng,
        n,
        (("", EMPTY_REVENUE), ("-", DASH_REVENUE), ("n/a", NA_REVENUE)),
        rejected,
    )
    technologies = allot(
        rng,
        n,
        (("", EMPTY_TECHNOLOGIES), ("recased", RECASED_TECHNOLOGIES)),
        rejected,
    )
    visits = allot(rng, n, (("", EMPTY_VISITS),), rejected)
    activity = allot(rng, n, (("", EMPTY_ACTIVITY),), rejected)
    customer = allot(rng, n, (("", EMPTY_CUSTOMER),), rejected)
    # Segment messes avoid rows without a usable headcount, so that every
    # inconsistent segment can be told from the Employees cell of its row.
    segment = allot(
        rng,
        n,
        (("", EMPTY_SEGMENT), ("wrong", WRONG_SEGMENT), ("recased", RECASED_SEGMENT)),
        [*rejected, *employees],
    )
    # Customers lean towards the better accounts: weighted sampling without
    # replacement (Efraimidis-Spirakis keys), over rows whose flag is filled in.
    weight = {"strong": 3.0, "medium": 2.0, "weak": 1.0}
    keyed = sorted(
        (rng.random() ** (1.0 / weight[accounts[i].tier]), i)
        for i in range(n)
        if i not in customer
    )
    customers = {i for _, i in keyed[-CUSTOMERS:]}

    rows: list[list[str]] = []
    for i, account in enumerate(accounts):
        mark = industry.get(i)
        industry_cell = account.industry
        if mark is not None:
            industry_cell = respell(rng, account.industry) if mark else ""

        mark = country.get(i)
        country_cell = account.country
        if mark is not None:
            country_cell = respell(rng, account.country) if mark else ""

        employees_cell = bad_employees.get(i) or employees.get(i)
        if employees_cell is None:
            employees_cell = format_employees(rng, account.employees)

        revenue_cell = bad_revenue.get(i) or revenue.get(i)
        if revenue_cell is None:
            revenue_cell = format_revenue(rng, account.revenue)

        mark = technologies.get(i)
        technologies_cell = ""
        if mark != "":
            technologies_cell = format_technologies(
                rng, account.technologies, recased=mark == "recased"
            )

        visits_cell = visits.get(i, str(account.web_visits))

        activity_cell = bad_dates.get(i) or activity.get(i)
        if activity_cell is None:
            day = AS_OF - timedelta(days=account.days_since_activity)
            activity_cell = day.isoformat()

        customer_cell = customer.get(i)
        if customer_cell is None:
            spellings = CUSTOMER_YES if i in customers else CUSTOMER_NO
            customer_cell = rng.choice(spellings)

        mark = segment.get(i)
        band = segment_of(account.employees)
        if mark == "wrong":
            band = 1 if band != 1 else rng.choice((0, 2))
        segment_cell = SEGMENTS[band]
        if mark == "recased":
            segment_cell = recase(rng, segment_cell)
        elif mark == "":
            segment_cell = ""

        rows.append(
            [
                f"ACC-{i + 1:05d}",
                account.name,
                account.website,
                industry_cell,
                country_cell,
                employees_cell,
                revenue_cell,
                technologies_cell,
                visits_cell,
                activity_cell,
                customer_cell,
                segment_cell,
            ]
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Write the example accounts file."""
    parser = argparse.ArgumentParser(description="Write the example accounts CSV.")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="where to write the CSV (default: examples/accounts.csv)",
    )
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    rows = render(rng, make_accounts(rng))
    with args.output.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    print(f"wrote {len(rows)} accounts to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
