def test_cast_builds(cast):
    assert cast.household_a.head_name == "张三丰"
    assert cast.household_a.head_initials == "zsf"
