/*
 * The symbol kinds of select:symbol.KIND (query.h, enum qsymkind) and how ctags' kind names,
 * which differ per language, map onto them (docs/query-syntax.md lists the table).
 */
#include <string.h>

#include "query/query.h"

static const char *const names[QK_N] = {
	[QK_ANY] = "symbol",       [QK_FUNCTION] = "function", [QK_METHOD] = "method",
	[QK_CLASS] = "class",      [QK_STRUCT] = "struct",     [QK_ENUM] = "enum",
	[QK_INTERFACE] = "interface", [QK_VARIABLE] = "variable", [QK_CONSTANT] = "constant",
	[QK_FIELD] = "field",      [QK_MACRO] = "macro",       [QK_TYPE] = "type",
	[QK_MODULE] = "module",    [QK_NAMESPACE] = "namespace", [QK_OTHER] = "other",
};

const char *query_symkind_name(enum qsymkind k)
{
	return (unsigned)k < QK_N ? names[k] : "other";
}

/* ctags' kind names (universal-ctags' long names, every language) and what they are. */
static const struct {
	const char *ctags;
	enum qsymkind kind;
} kind_map[] = {
	{ "function", QK_FUNCTION },    { "func", QK_FUNCTION },
	{ "subroutine", QK_FUNCTION },  { "procedure", QK_FUNCTION },
	{ "generator", QK_FUNCTION },   { "method", QK_METHOD },
	{ "singletonMethod", QK_METHOD }, { "methodSpec", QK_METHOD },
	{ "getter", QK_METHOD },        { "setter", QK_METHOD },
	{ "class", QK_CLASS },          { "struct", QK_STRUCT },
	{ "union", QK_STRUCT },         { "enum", QK_ENUM },
	{ "interface", QK_INTERFACE },  { "trait", QK_INTERFACE },
	{ "protocol", QK_INTERFACE },   { "variable", QK_VARIABLE },
	{ "var", QK_VARIABLE },         { "externvar", QK_VARIABLE },
	{ "constant", QK_CONSTANT },    { "const", QK_CONSTANT },
	{ "enumerator", QK_CONSTANT },  { "enumConstant", QK_CONSTANT },
	{ "field", QK_FIELD },          { "member", QK_FIELD },
	{ "property", QK_FIELD },       { "anonMember", QK_FIELD },
	{ "accessor", QK_FIELD },       { "macro", QK_MACRO },
	{ "define", QK_MACRO },         { "typedef", QK_TYPE },
	{ "type", QK_TYPE },            { "talias", QK_TYPE },
	{ "alias", QK_TYPE },           { "typealias", QK_TYPE },
	{ "module", QK_MODULE },        { "package", QK_MODULE },
	{ "namespace", QK_NAMESPACE },
};

static bool eq(const char *a, size_t n, const char *b)
{
	return strlen(b) == n && memcmp(a, b, n) == 0;
}

enum qsymkind query_symkind_of(const char *kind, size_t len, const char *lang, size_t lang_len)
{
	/* A Python class's functions are "member"s to ctags: methods, not fields. */
	if (lang && eq(lang, lang_len, "Python") && eq(kind, len, "member"))
		return QK_METHOD;
	for (size_t i = 0; i < sizeof(kind_map) / sizeof(kind_map[0]); i++)
		if (eq(kind, len, kind_map[i].ctags))
			return kind_map[i].kind;
	return QK_OTHER;
}
