"""HTTP edge shared by every domain: dependencies, problem documents, pagination."""
