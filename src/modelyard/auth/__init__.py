"""Users, hashed API tokens, scopes and project limits: the one place that says who may do what."""
