"""Reference data: government agencies (one-stop desks) and the post offices that serve wards."""
