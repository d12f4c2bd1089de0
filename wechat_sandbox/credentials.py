"""Default sandbox credentials.

The sandbox and the main app must agree on appid, secret, merchant id and pay key
without any setup, so both import these defaults from here. None of them is a real
WeChat credential.
"""

DEFAULT_APP_ID = "wx5a0dbox00000001"
DEFAULT_APP_SECRET = "sandbox-app-secret"
DEFAULT_MCH_ID = "1900000109"
DEFAULT_API_KEY = "sandboxpaykey0123456789abcdefghij"  # 32 chars, as WeChat Pay v2 requires

# The official account (服务号): bot callback token, EncodingAESKey (43 chars) and H5 OAuth.
DEFAULT_OA_APP_ID = "wx5a0dbox0000000a"
DEFAULT_OA_APP_SECRET = "sandbox-oa-secret"
DEFAULT_OA_TOKEN = "sandboxoatoken"
DEFAULT_OA_AES_KEY = "c2FuZGJveG9hYWVza2V5MDEyMzQ1Njc4OWFiY2RlZmc"
