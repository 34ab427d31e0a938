"""threadline-ops: replay dead letters, show, relink and unlink conversations, backfill threads.

It lives with the router because every change it makes is one the router applies: it reads the
router's links table (the compacted changelog) and writes records for the router's own inbound
topic, decided by the router's rules (`threadline_router.rules`).
"""
