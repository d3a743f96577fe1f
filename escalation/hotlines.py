"""The hotline card for a person at risk: warm, short, one primary number for their country."""

from .models import Hotline

SUPPORT_TEXT = (
    "It sounds like things are really hard right now, and we're glad you said something. "
    "You don't have to go through this alone: you can reach someone right now, any time of day, "
    "or talk with one of our facilitators here."
)


def hotlines_for(country_code: str) -> list[Hotline]:
    """The services for a country, primary first; the fallback list when it has none."""
    found = list(Hotline.objects.filter(country=country_code.upper())) if country_code else []
    return found or list(Hotline.objects.filter(country=""))


def hotline_payload(hotline: Hotline) -> dict:
    return {
        "name": hotline.name,
        "description": hotline.description,
        "phone": hotline.phone,
        "tel": hotline.tel,
        "sms": hotline.sms,
        "sms_body": hotline.sms_body,
        "url": hotline.url,
        "primary": hotline.is_primary,
    }


def support_offer(level: str, country_code: str) -> dict:
    return {
        "level": level,
        "hotlines": [hotline_payload(h) for h in hotlines_for(country_code)],
        "text": SUPPORT_TEXT,
    }
