"""What the public may see of a person: the one masking function every page, API answer, export and search
index uses (张三丰 → 张*丰)."""


def mask_name(name: str) -> str:
    """张三丰 → 张*丰, 李四 → 李*, 欧阳小锋 → 欧**锋: enough for neighbours to recognise, not to identify."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
