/*
 * The handlers of the administration routes (handlers_admin.c; docs/api.md, "Administration"):
 * users, passwords, groups, members, repository access, the audit trail and "sync now". Every one needs
 * ROUTE_PERM_ADMIN in its row of server_routes[] (handlers.c); they are declared here rather
 * than in server_int.h so that the admin API is one unit. Each takes the request the
 * dispatcher admitted and answers as every handler does (0, or a TRAWL_E* code for
 * route_error_of).
 */
#ifndef TRAWL_SERVER_HANDLERS_ADMIN_H
#define TRAWL_SERVER_HANDLERS_ADMIN_H

struct req;

int handlers_admin_users(struct req *rq);         /* GET: every user */
int handlers_admin_user_add(struct req *rq);      /* POST: a new user */
int handlers_admin_user_set(struct req *rq);      /* PUT: display name, admin, disabled */
int handlers_admin_user_password(struct req *rq); /* PUT: reset a password */
int handlers_admin_groups(struct req *rq);        /* GET: every group */
int handlers_admin_group_add(struct req *rq);     /* POST: a new group */
int handlers_admin_group_remove(struct req *rq);  /* DELETE: a group */
int handlers_admin_members(struct req *rq);       /* PUT: add and remove members */
int handlers_admin_access(struct req *rq);        /* GET: every repository's access */
int handlers_admin_repo_access(struct req *rq);   /* PUT: one repository's grants and flag */
int handlers_admin_audit(struct req *rq);         /* GET: the audit trail, filtered */
int handlers_admin_repo_sync(struct req *rq);     /* POST: sync a repository now */

/* The largest body of a list of names (members, grants): about a thousand names. */
#define HANDLERS_ADMIN_BODY_LIST 65536

#endif
