#ifndef RELSYNC_CLIBPQ_SHIM_H
#define RELSYNC_CLIBPQ_SHIM_H
#include <libpq-fe.h>

/*
 * Diagnostic field codes for PQresultErrorField. libpq defines them as character-literal
 * macros (postgres_ext.h), which Swift does not import as typed constants; these re-export
 * them as plain ints under the project prefix.
 */
enum {
    relsync_pq_diag_severity = PG_DIAG_SEVERITY_NONLOCALIZED,
    relsync_pq_diag_sqlstate = PG_DIAG_SQLSTATE,
    relsync_pq_diag_message_primary = PG_DIAG_MESSAGE_PRIMARY,
    relsync_pq_diag_message_detail = PG_DIAG_MESSAGE_DETAIL,
    relsync_pq_diag_message_hint = PG_DIAG_MESSAGE_HINT,
    relsync_pq_diag_schema_name = PG_DIAG_SCHEMA_NAME,
    relsync_pq_diag_table_name = PG_DIAG_TABLE_NAME,
    relsync_pq_diag_column_name = PG_DIAG_COLUMN_NAME,
    relsync_pq_diag_constraint_name = PG_DIAG_CONSTRAINT_NAME,
};

#endif
