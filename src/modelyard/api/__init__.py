"""HTTP edge shared by every domain: dependencies and problem documents."""
