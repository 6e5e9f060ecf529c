"""STS GetCallerIdentity for the simulated account (Query API, XML)."""

from __future__ import annotations

import uuid

_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def caller_identity(account_id: str, access_key: str) -> str:
    user = "cnibot" if access_key in ("", "testing") else access_key.lower()
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<GetCallerIdentityResponse xmlns="{_NS}">'
        "<GetCallerIdentityResult>"
        f"<Arn>arn:aws:iam::{account_id}:user/{user}</Arn>"
        "<UserId>AIDASIMULATEDUSER0001</UserId>"
        f"<Account>{account_id}</Account>"
        "</GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )


def error(code: str, message: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{_NS}"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
        "</ErrorResponse>"
    )
