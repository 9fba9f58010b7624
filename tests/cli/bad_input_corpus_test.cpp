// Placeholder: tests land here in the hardening work (issue 10).
