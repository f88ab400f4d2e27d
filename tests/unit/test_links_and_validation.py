from __future__ import annotations

import pytest

from app.catalog.models import Platform
from app.i18n import negotiate_locale
from app.orders.links import normalise_link
from app.validation import normalise_email, normalise_vat_id


@pytest.mark.parametrize(
    ("platform", "raw", "expected"),
    [
        (Platform.INSTAGRAM, "@cafe.lindenblatt", "https://www.instagram.com/cafe.lindenblatt/"),
        (Platform.INSTAGRAM, "instagram.com/p/abc/", "https://instagram.com/p/abc/"),
        (Platform.TIKTOK, "fitnessmaxx", "https://www.tiktok.com/@fitnessmaxx"),
        (Platform.YOUTUBE, "https://youtu.be/abc", "https://youtu.be/abc"),
        (Platform.YOUTUBE, "https://m.youtube.com/watch?v=x", "https://m.youtube.com/watch?v=x"),
    ],
)
def test_links_are_normalised_per_platform(platform, raw, expected):
    assert normalise_link(platform, raw) == expected


@pytest.mark.parametrize(
    ("platform", "raw", "message"),
    [
        (Platform.INSTAGRAM, "", "enter the link"),
        (Platform.INSTAGRAM, "https://www.tiktok.com/@x", "not a link to Instagram"),
        (Platform.TIKTOK, "https://evil.example/tiktok.com", "not a link to TikTok"),
        (Platform.SPOTIFY, "@artist", "full link"),
        (Platform.INSTAGRAM, "x" * 501, "longer than"),
    ],
)
def test_bad_links_are_refused_with_a_reason(platform, raw, message):
    with pytest.raises(ValueError, match=message):
        normalise_link(platform, raw)


def test_vat_ids_are_checked_and_compacted():
    assert normalise_vat_id("DE 136 695 976") == "DE136695976"
    with pytest.raises(ValueError, match="not a valid VAT ID"):
        normalise_vat_id("DE136695977")


def test_emails_are_lowercased_and_checked():
    assert normalise_email(" Lena@Example.DE ") == "lena@example.de"
    with pytest.raises(ValueError, match="@-sign"):
        normalise_email("not-an-email")


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        ("en", "de", "de", "en"),
        (None, "en", "de-DE", "en"),
        (None, None, "fr-FR, en;q=0.8, de;q=0.9", "de"),
        (None, None, "fr", "de"),
        ("xx", None, "en-GB", "en"),
    ],
)
def test_locale_negotiation(query, cookie, header, expected):
    assert negotiate_locale(query, cookie, header) == expected
