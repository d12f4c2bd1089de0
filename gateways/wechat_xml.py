"""WeChat's XML as it arrives at our doors (Pay notifications, official-account pushes), read safely:
defusedxml with no DTD at all, so no entity is ever expanded or fetched (WeChat never sends one)."""
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import fromstring


class Unreadable(ValueError):
    """Not WeChat's XML: not XML at all, a DOCTYPE or entity, another root, nested or repeated fields."""


class DtdRefused(Unreadable):
    """A DOCTYPE or entity: an expansion or file-read attempt."""


def parse(raw: bytes) -> Element:
    """The document's root. Raises DtdRefused, Unreadable."""
    try:
        return fromstring(raw, forbid_dtd=True)
    except (DTDForbidden, EntitiesForbidden) as exc:
        raise DtdRefused(f'a DTD is not accepted ({type(exc).__name__})') from None
    except (ParseError, ValueError, LookupError) as exc:  # not XML; an encoding expat lacks, or none
        raise Unreadable(f'not XML ({type(exc).__name__})') from None


def flat_fields(raw: bytes) -> dict[str, str]:
    """WeChat Pay's flat `<xml><name>value</name>...</xml>` as {name: value}. Raises Unreadable."""
    root = parse(raw)
    if root.tag != 'xml':
        raise Unreadable('the root is not <xml>')
    fields = {}
    for child in root:
        if len(child) or child.tag in fields:
            raise Unreadable('not a flat list of fields')
        fields[child.tag] = (child.text or '').strip()  # as wechatpy (xmltodict) reads them
    return fields
