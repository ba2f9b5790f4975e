"""Test tools shared by every app's tests (not an app: never imported by the site)."""
