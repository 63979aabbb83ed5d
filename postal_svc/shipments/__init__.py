"""Orders: intake from government systems, the status lifecycle and tracking events."""
