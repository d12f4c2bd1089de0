"""PNG pictures the sandbox hands out: QR codes (for mini-program codes and official-account QR
codes — a real scanner reads what WeChat's would lead to) and test users' avatars."""
import hashlib
import io

import qrcode
from PIL import Image, ImageDraw


def qr_png(text, size=430):
    """A QR code of `text`, `size` pixels square, black on white with a quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=10)
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    return _png(image.resize((size, size), Image.NEAREST))


def avatar_png(name, size=132):
    """A square avatar: the name's first letter on a colour picked from the name."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    image = Image.new("RGB", (size, size), (64 + digest[0] % 160, 64 + digest[1] % 160, 64 + digest[2] % 160))
    draw = ImageDraw.Draw(image)
    draw.text((size / 2, size / 2), name[:1].upper(), fill="white", anchor="mm", font_size=size // 2)
    return _png(image)


def _png(image):
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
