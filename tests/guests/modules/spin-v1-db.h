// The database routes of spin-v1.c (spin-v1-db.c).
#ifndef SPIN_V1_DB_H
#define SPIN_V1_DB_H
#include "spin_v1_guest.h"
#include <stddef.h>

/// Outbound PostgreSQL at `address`: a table of every rdbms type, written and read back.
void pg_report(spin_v1_guest_string_t *address, char *out, size_t size);
/// Outbound MySQL at `address`: the same for MySQL's types.
void mysql_report(spin_v1_guest_string_t *address, char *out, size_t size);
/// The `default` SQLite database, and `secret` (not listed).
void sqlite_report(char *out, size_t size);
#endif
