"""The client portal: passwordless login by emailed link, and what a logged-in client may read and change."""
