"""What every admin form of the points app shares: the villages a user may pick for a capability."""

from points.scope import Capability, scope_for


def villages_for(user, capability: Capability):
    scope = scope_for(user)
    if capability not in scope.capabilities:
        return scope.villages().none()
    return scope.villages()
