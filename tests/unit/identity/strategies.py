"""Hypothesis strategies for legal names, shared by the identity specifications."""

from __future__ import annotations

from hypothesis import strategies as st

from dlt.identity import X500Name

FORBIDDEN = ',=+<>#;"\\'


def _value(max_bytes: int) -> st.SearchStrategy[str]:
    ascii_text = st.text(
        st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=max_bytes
    )
    any_text = st.text(min_size=1, max_size=max_bytes // 4)
    return st.one_of(ascii_text, any_text).filter(
        lambda s: (
            s == s.strip()
            and s.isprintable()
            and not any(c in FORBIDDEN for c in s)
            and len(s.encode("utf-8")) <= max_bytes
        )
    )


names = st.builds(
    X500Name,
    _value(128),
    _value(64),
    st.from_regex(r"[A-Z]{2}", fullmatch=True),
    organisation_unit=st.none() | _value(64),
    common_name=st.none() | _value(64),
    state=st.none() | _value(64),
)
