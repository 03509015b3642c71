"""The register's hand-written SQL: who a user is, named, with why it is SQL and not the ORM.

Only ``points/scope.py`` calls it, with the connection the router names for reading ``StaffRole``.
"""

# A user's staff role and resident account, in one statement: (role, district id, township id, village id,
# household id, resident's village id), all None where the user has neither. ``points.scope`` computes the scope
# from them on every request and every service call (each is one-to-one with the user, so one row). The ORM
# reads the two tables as two queries and compiles both on each call: on the counter's and the ballot's paths
# that cost more than the database's work (bench/store.py, bench/campaigns.py).
USER_ROLES = """
    SELECT s.role, s.district_id, s.township_id, s.village_id, r.household_id, r.village_id
    FROM (SELECT %s AS user_id) u
    LEFT JOIN points_staffrole s ON s.user_id = u.user_id
    LEFT JOIN points_residentaccount r ON r.user_id = u.user_id"""


def user_roles(connection, *, user_id: int) -> tuple:
    """(role, district id, township id, village id, household id, resident's village id) of the user."""
    with connection.cursor() as cursor:
        cursor.execute(USER_ROLES, [user_id])
        return cursor.fetchone()
