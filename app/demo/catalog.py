"""The demo catalog: what a small German growth agency would sell (texts in German and English, EUR)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.catalog.models import Platform, ServiceKind


@dataclass(frozen=True)
class DemoCategory:
    slug: str
    platform: Platform
    name_de: str
    name_en: str


@dataclass(frozen=True)
class DemoService:
    slug: str
    category: str
    kind: ServiceKind
    name_de: str
    name_en: str
    description_de: str
    description_en: str
    price: str
    min_quantity: int
    max_quantity: int
    refill_days: int = 0
    expected_start_hours: int = 24
    speed_per_day: int = 1000
    cancellable: bool = False
    provider_rate: str | None = None  # the upstream rate per 1000 in the provider's currency (USD)


CATEGORIES = [
    DemoCategory("instagram", Platform.INSTAGRAM, "Instagram", "Instagram"),
    DemoCategory("tiktok", Platform.TIKTOK, "TikTok", "TikTok"),
    DemoCategory("youtube", Platform.YOUTUBE, "YouTube", "YouTube"),
    DemoCategory("pakete", Platform.INSTAGRAM, "Pakete & Abos", "Packages & subscriptions"),
]

SERVICES = [
    DemoService(
        "instagram-follower-de",
        "instagram",
        ServiceKind.DEFAULT,
        "Instagram Follower (Deutschland)",
        "Instagram followers (Germany)",
        "Follower mit deutschen Profilen, langsam und gleichmäßig geliefert.\n\n"
        "Start innerhalb von 24 Stunden, 30 Tage Nachfüllgarantie.",
        "Followers with German profiles, delivered slowly and evenly.\n\n"
        "Starts within 24 hours, 30-day refill guarantee.",
        "9.9000",
        100,
        20000,
        refill_days=30,
        cancellable=True,
        provider_rate="3.2000",
        expected_start_hours=24,
        speed_per_day=500,
    ),
    DemoService(
        "instagram-follower-global",
        "instagram",
        ServiceKind.DEFAULT,
        "Instagram Follower (international)",
        "Instagram followers (worldwide)",
        "Günstige internationale Follower für schnellen sozialen Beweis.",
        "Affordable worldwide followers for quick social proof.",
        "2.9000",
        100,
        100000,
        refill_days=30,
        provider_rate="0.9000",
        expected_start_hours=2,
        speed_per_day=5000,
    ),
    DemoService(
        "instagram-likes",
        "instagram",
        ServiceKind.DEFAULT,
        "Instagram Likes",
        "Instagram likes",
        "Likes für einen Beitrag oder ein Reel, Start in wenigen Minuten.",
        "Likes for one post or reel, starting within minutes.",
        "1.9000",
        50,
        50000,
        provider_rate="0.4500",
        expected_start_hours=1,
        speed_per_day=10000,
    ),
    DemoService(
        "instagram-reel-views",
        "instagram",
        ServiceKind.DEFAULT,
        "Instagram Reel-Aufrufe",
        "Instagram reel views",
        "Aufrufe für Reels und Videos, bis zu 100.000 am Tag.",
        "Views for reels and videos, up to 100,000 a day.",
        "0.3900",
        500,
        1000000,
        provider_rate="0.0800",
        expected_start_hours=1,
        speed_per_day=50000,
    ),
    DemoService(
        "instagram-kommentare",
        "instagram",
        ServiceKind.CUSTOM_COMMENTS,
        "Instagram Kommentare (eigene Texte)",
        "Instagram comments (your own texts)",
        "Ihre Kommentare, ein Kommentar pro Zeile, von echten Profilen gepostet.",
        "Your comments, one per line, posted by real-looking profiles.",
        "39.0000",
        5,
        500,
        provider_rate="12.0000",
        expected_start_hours=12,
        speed_per_day=200,
    ),
    DemoService(
        "tiktok-follower",
        "tiktok",
        ServiceKind.DEFAULT,
        "TikTok Follower",
        "TikTok followers",
        "TikTok Follower mit Profilbild, 30 Tage Nachfüllgarantie.",
        "TikTok followers with profile pictures, 30-day refill guarantee.",
        "6.9000",
        100,
        50000,
        refill_days=30,
        provider_rate="2.1000",
        expected_start_hours=6,
        speed_per_day=2000,
    ),
    DemoService(
        "tiktok-likes",
        "tiktok",
        ServiceKind.DEFAULT,
        "TikTok Likes",
        "TikTok likes",
        "Likes für ein TikTok-Video, schneller Start.",
        "Likes for one TikTok video, fast start.",
        "1.4900",
        100,
        100000,
        provider_rate="0.3000",
        expected_start_hours=1,
        speed_per_day=10000,
    ),
    DemoService(
        "tiktok-views",
        "tiktok",
        ServiceKind.DRIP_FEED,
        "TikTok Aufrufe (Drip-Feed)",
        "TikTok views (drip-feed)",
        "Aufrufe in mehreren Runden verteilt, damit das Wachstum natürlich wirkt.",
        "Views spread over several runs so that growth looks natural.",
        "0.1900",
        1000,
        500000,
        provider_rate="0.0300",
        expected_start_hours=1,
        speed_per_day=100000,
    ),
    DemoService(
        "youtube-views",
        "youtube",
        ServiceKind.DEFAULT,
        "YouTube Aufrufe",
        "YouTube views",
        "Aufrufe mit hoher Verweildauer, 60 Tage Nachfüllgarantie.",
        "High-retention views, 60-day refill guarantee.",
        "3.4900",
        500,
        200000,
        refill_days=60,
        provider_rate="1.1000",
        expected_start_hours=12,
        speed_per_day=5000,
    ),
    DemoService(
        "youtube-abonnenten",
        "youtube",
        ServiceKind.DEFAULT,
        "YouTube Abonnenten",
        "YouTube subscribers",
        "Abonnenten für Ihren Kanal, langsam geliefert.",
        "Subscribers for your channel, delivered slowly.",
        "29.0000",
        50,
        10000,
        refill_days=30,
        provider_rate="9.5000",
        expected_start_hours=48,
        speed_per_day=200,
    ),
    DemoService(
        "youtube-likes",
        "youtube",
        ServiceKind.DEFAULT,
        "YouTube Likes",
        "YouTube likes",
        "Likes für ein Video.",
        "Likes for one video.",
        "7.9000",
        50,
        20000,
        provider_rate="2.4000",
        expected_start_hours=6,
        speed_per_day=2000,
    ),
    DemoService(
        "starter-paket-instagram",
        "pakete",
        ServiceKind.PACKAGE,
        "Instagram Starter-Paket",
        "Instagram starter package",
        "1.000 Follower, 1.000 Likes verteilt auf 5 Beiträge und 5.000 Reel-Aufrufe.",
        "1,000 followers, 1,000 likes over 5 posts and 5,000 reel views.",
        "49.0000",
        1,
        5,
        expected_start_hours=24,
        speed_per_day=1000,
    ),
    DemoService(
        "auto-likes-abo",
        "pakete",
        ServiceKind.SUBSCRIPTION,
        "Instagram Auto-Likes (Abo)",
        "Instagram auto-likes (subscription)",
        "Jeder neue Beitrag erhält automatisch 50 bis 1.000 Likes, bis zu 30 Beiträge im Monat. Monatlich kündbar.",
        "Every new post gets 50 to 1,000 likes automatically, up to 30 posts a month. Cancel monthly.",
        "29.0000",
        50,
        1000,
        expected_start_hours=1,
        speed_per_day=5000,
    ),
]


@dataclass(frozen=True)
class DemoCustomer:
    email: str
    name: str
    company: str | None
    address_line1: str
    postal_code: str
    city: str
    country: str
    vat_id: str | None
    locale: str


CUSTOMERS = [
    DemoCustomer(
        "lena.schmidt@example.de", "Lena Schmidt", None, "Hauptstraße 12", "80331", "München", "DE", None, "de"
    ),
    DemoCustomer(
        "info@cafe-lindenblatt.de",
        "Jonas Weber",
        "Café Lindenblatt GmbH",
        "Lindenallee 3",
        "50667",
        "Köln",
        "DE",
        "DE136695976",
        "de",
    ),
    DemoCustomer(
        "office@bergblick-media.at",
        "Anna Gruber",
        "Bergblick Media GmbH",
        "Mariahilfer Straße 40",
        "1070",
        "Wien",
        "AT",
        "ATU13585627",
        "de",
    ),
    DemoCustomer(
        "hello@northwind-studio.com",
        "Mia Johnson",
        "Northwind Studio LLC",
        "500 Market Street",
        "94105",
        "San Francisco",
        "US",
        None,
        "en",
    ),
    DemoCustomer(
        "claire.martin@example.fr", "Claire Martin", None, "12 rue de la Paix", "75002", "Paris", "FR", None, "en"
    ),
    DemoCustomer(
        "max@fitness-maxx.de", "Max Hoffmann", "FitnessMaxx UG", "Sportweg 7", "20095", "Hamburg", "DE", None, "de"
    ),
]

COMPANY = {
    "legal_name": "SMPLaT Growth GmbH",
    "address_line1": "Torstraße 120",
    "postal_code": "10119",
    "city": "Berlin",
    "country": "DE",
    "email": "hallo@smplat.example",
    "phone": "+49 30 1234567",
    "website": "https://smplat.example",
    "tax_number": "37/123/45678",
    "vat_id": "DE811907980",
    "managing_director": "Sophie Wagner",
    "register_court": "Amtsgericht Charlottenburg",
    "register_number": "HRB 123456 B",
    "bank_name": "Berliner Volksbank",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "is_small_business": False,
    "datev_consultant_number": 1001,
    "datev_client_number": 10001,
}

PROVIDER_RATE_CURRENCY = "USD"
ZERO = Decimal("0")
