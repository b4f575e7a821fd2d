"""Building blocks that belong to no layer: usable by endpoints, services, repositories and the SDK alike."""
