#include "store/db.h"
int db_pg_open(struct db **out, const char *url)
{
	(void)url;
	*out = NULL;
	return DB_CANTOPEN;
}
