/* placeholder, filled below */
const char store_schema_pg[] = "";
