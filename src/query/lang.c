/*
 * Language detection by path, for `lang:` filters and for ranking; see lang.h.
 *
 * DESIGN: three sorted static tables answer lang_detect() by binary search, in this order:
 * exact file names (case-sensitive, as linguist matches them: "Makefile", "go.mod",
 * "CMakeLists.txt"), a few file-name prefixes ("Dockerfile.*"), then extensions (compared in
 * lowercase, as linguist does). Every suffix that starts at a dot is tried, longest first, so
 * "foo.blade.php" is Blade while "foo.d.ts" falls through to ".ts". Linguist maps some extensions
 * to several languages and then reads the content; we read no content, so each extension belongs
 * to exactly one language, the most common one (".h" is C, ".m" Objective-C, ".pl" Perl, ".v"
 * Verilog); docs/languages.md lists these choices. A fourth table maps lowercase names and aliases
 * to ids for lang_find(). The tables were generated from linguist's languages.yml and are kept
 * sorted by hand; lang_check_tables() (run by the unit tests) catches a misplaced entry.
 */
#include "query/lang.h"

#include <stdbool.h>
#include <string.h>

#include "util/editdist.h"
#include "util/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Bounds ext_table's key lengths (lang_check_tables() checks it); longer suffixes are skipped. */
#define LANG_EXT_MAX 24

/*
 * The languages, in id order: the first entry is id 1. Ids are stored in index shards, so this
 * order is fixed forever: add a language at the end of the list, never in the middle, and never
 * remove or rename one (a renamed linguist language keeps its id and gets its old name as an
 * alias). The first 251 entries happen to be in linguist's alphabetical order; later ones are not.
 * Kconfig is not a linguist language; trawl adds it because kernel-style trees are full of it.
 */
#define LANG_LIST(X) \
	X(ABAP, "ABAP") \
	X(ANTLR, "ANTLR") \
	X(ACTIONSCRIPT, "ActionScript") \
	X(ADA, "Ada") \
	X(AGDA, "Agda") \
	X(APACHECONF, "ApacheConf") \
	X(APEX, "Apex") \
	X(APPLESCRIPT, "AppleScript") \
	X(ASCIIDOC, "AsciiDoc") \
	X(ASSEMBLY, "Assembly") \
	X(ASTRO, "Astro") \
	X(AUTOHOTKEY, "AutoHotkey") \
	X(AUTOIT, "AutoIt") \
	X(AWK, "Awk") \
	X(BATCHFILE, "Batchfile") \
	X(BIBTEX, "BibTeX") \
	X(BICEP, "Bicep") \
	X(BITBAKE, "BitBake") \
	X(BLADE, "Blade") \
	X(BRAINFUCK, "Brainfuck") \
	X(BROWSERSLIST, "Browserslist") \
	X(C, "C") \
	X(CSHARP, "C#") \
	X(CPP, "C++") \
	X(CMAKE, "CMake") \
	X(COBOL, "COBOL") \
	X(CODEOWNERS, "CODEOWNERS") \
	X(CSS, "CSS") \
	X(CSV, "CSV") \
	X(CUE, "CUE") \
	X(CAPNPROTO, "Cap'n Proto") \
	X(CLOJURE, "Clojure") \
	X(COFFEESCRIPT, "CoffeeScript") \
	X(COLDFUSION, "ColdFusion") \
	X(COMMONLISP, "Common Lisp") \
	X(CRYSTAL, "Crystal") \
	X(CUDA, "Cuda") \
	X(CYTHON, "Cython") \
	X(D, "D") \
	X(DART, "Dart") \
	X(DHALL, "Dhall") \
	X(DIFF, "Diff") \
	X(DOCKERFILE, "Dockerfile") \
	X(DOTENV, "Dotenv") \
	X(EJS, "EJS") \
	X(EDITORCONFIG, "EditorConfig") \
	X(ELIXIR, "Elixir") \
	X(ELM, "Elm") \
	X(EMACSLISP, "Emacs Lisp") \
	X(ERLANG, "Erlang") \
	X(FSHARP, "F#") \
	X(FENNEL, "Fennel") \
	X(FORTRAN, "Fortran") \
	X(FORTRANFREE, "Fortran Free Form") \
	X(GDSCRIPT, "GDScript") \
	X(GLSL, "GLSL") \
	X(GN, "GN") \
	X(GAMEMAKER, "Game Maker Language") \
	X(GEMFILELOCK, "Gemfile.lock") \
	X(GETTEXT, "Gettext Catalog") \
	X(GHERKIN, "Gherkin") \
	X(GITATTRIBUTES, "Git Attributes") \
	X(GITCONFIG, "Git Config") \
	X(GLEAM, "Gleam") \
	X(GO, "Go") \
	X(GOCHECKSUMS, "Go Checksums") \
	X(GOMODULE, "Go Module") \
	X(GOWORKSPACE, "Go Workspace") \
	X(GRADLE, "Gradle") \
	X(GRADLEKTS, "Gradle Kotlin DSL") \
	X(GRAPHQL, "GraphQL") \
	X(GRAPHVIZ, "Graphviz (DOT)") \
	X(GROOVY, "Groovy") \
	X(HCL, "HCL") \
	X(HLSL, "HLSL") \
	X(HTML, "HTML") \
	X(HTMLEEX, "HTML+EEX") \
	X(HTMLERB, "HTML+ERB") \
	X(HTMLPHP, "HTML+PHP") \
	X(HTMLRAZOR, "HTML+Razor") \
	X(HACK, "Hack") \
	X(HAML, "Haml") \
	X(HANDLEBARS, "Handlebars") \
	X(HASKELL, "Haskell") \
	X(HAXE, "Haxe") \
	X(INI, "INI") \
	X(IDRIS, "Idris") \
	X(IGNORELIST, "Ignore List") \
	X(INNOSETUP, "Inno Setup") \
	X(ISABELLE, "Isabelle") \
	X(JSON, "JSON") \
	X(JSONC, "JSON with Comments") \
	X(JSON5, "JSON5") \
	X(JSONLD, "JSONLD") \
	X(JAVA, "Java") \
	X(JAVAPROPERTIES, "Java Properties") \
	X(JSP, "Java Server Pages") \
	X(JAVASCRIPT, "JavaScript") \
	X(JINJA, "Jinja") \
	X(JSONNET, "Jsonnet") \
	X(JULIA, "Julia") \
	X(JUPYTER, "Jupyter Notebook") \
	X(JUST, "Just") \
	X(KCONFIG, "Kconfig") \
	X(KOTLIN, "Kotlin") \
	X(LLVM, "LLVM") \
	X(LEAN, "Lean") \
	X(LESS, "Less") \
	X(LEX, "Lex") \
	X(LINKERSCRIPT, "Linker Script") \
	X(LIQUID, "Liquid") \
	X(LITERATEHASKELL, "Literate Haskell") \
	X(LIVESCRIPT, "LiveScript") \
	X(LUA, "Lua") \
	X(LUAU, "Luau") \
	X(M4, "M4") \
	X(M4SUGAR, "M4Sugar") \
	X(MATLAB, "MATLAB") \
	X(MDX, "MDX") \
	X(MLIR, "MLIR") \
	X(MAKEFILE, "Makefile") \
	X(MARKDOWN, "Markdown") \
	X(MATHEMATICA, "Mathematica") \
	X(MERMAID, "Mermaid") \
	X(MESON, "Meson") \
	X(VSSOLUTION, "Microsoft Visual Studio Solution") \
	X(MOJO, "Mojo") \
	X(MUSTACHE, "Mustache") \
	X(NPMCONFIG, "NPM Config") \
	X(NSIS, "NSIS") \
	X(NEXTFLOW, "Nextflow") \
	X(NGINX, "Nginx") \
	X(NIM, "Nim") \
	X(NINJA, "Ninja") \
	X(NIX, "Nix") \
	X(NUNJUCKS, "Nunjucks") \
	X(NUSHELL, "Nushell") \
	X(OCAML, "OCaml") \
	X(OBJC, "Objective-C") \
	X(OBJCPP, "Objective-C++") \
	X(ODIN, "Odin") \
	X(REGO, "Open Policy Agent") \
	X(OPENCL, "OpenCL") \
	X(OPENSCAD, "OpenSCAD") \
	X(ORG, "Org") \
	X(PHP, "PHP") \
	X(PLSQL, "PLSQL") \
	X(PLPGSQL, "PLpgSQL") \
	X(PASCAL, "Pascal") \
	X(PERL, "Perl") \
	X(PIPREQ, "Pip Requirements") \
	X(PLANTUML, "PlantUML") \
	X(POD, "Pod") \
	X(POSTCSS, "PostCSS") \
	X(POSTSCRIPT, "PostScript") \
	X(POWERSHELL, "PowerShell") \
	X(PRISMA, "Prisma") \
	X(PROCESSING, "Processing") \
	X(PROCFILE, "Procfile") \
	X(PROLOG, "Prolog") \
	X(PROTOBUF, "Protocol Buffer") \
	X(TEXTPROTO, "Protocol Buffer Text Format") \
	X(PUG, "Pug") \
	X(PUPPET, "Puppet") \
	X(PURESCRIPT, "PureScript") \
	X(PYTHON, "Python") \
	X(QML, "QML") \
	X(QMAKE, "QMake") \
	X(R, "R") \
	X(RDOC, "RDoc") \
	X(RMARKDOWN, "RMarkdown") \
	X(RPMSPEC, "RPM Spec") \
	X(RACKET, "Racket") \
	X(RAKU, "Raku") \
	X(RESCRIPT, "ReScript") \
	X(REASON, "Reason") \
	X(ROBOTFRAMEWORK, "RobotFramework") \
	X(ROCQ, "Rocq Prover") \
	X(ROFF, "Roff") \
	X(RUBY, "Ruby") \
	X(RUST, "Rust") \
	X(SAS, "SAS") \
	X(SCSS, "SCSS") \
	X(SQL, "SQL") \
	X(SSHCONFIG, "SSH Config") \
	X(SVG, "SVG") \
	X(SWIG, "SWIG") \
	X(SALTSTACK, "SaltStack") \
	X(SASS, "Sass") \
	X(SCALA, "Scala") \
	X(SCHEME, "Scheme") \
	X(SHADERLAB, "ShaderLab") \
	X(SHELL, "Shell") \
	X(SHELLSESSION, "ShellSession") \
	X(SMALI, "Smali") \
	X(SMALLTALK, "Smalltalk") \
	X(SMARTY, "Smarty") \
	X(SNAKEMAKE, "Snakemake") \
	X(SOLIDITY, "Solidity") \
	X(STANDARDML, "Standard ML") \
	X(STARLARK, "Starlark") \
	X(STATA, "Stata") \
	X(STYLUS, "Stylus") \
	X(SUPERCOLLIDER, "SuperCollider") \
	X(SVELTE, "Svelte") \
	X(SWIFT, "Swift") \
	X(SYSTEMVERILOG, "SystemVerilog") \
	X(TLA, "TLA") \
	X(TOML, "TOML") \
	X(TSV, "TSV") \
	X(TSX, "TSX") \
	X(TCL, "Tcl") \
	X(TCSH, "Tcsh") \
	X(TEX, "TeX") \
	X(TFTPL, "Terraform Template") \
	X(TEXINFO, "Texinfo") \
	X(TEXT, "Text") \
	X(TEXTILE, "Textile") \
	X(THRIFT, "Thrift") \
	X(TWIG, "Twig") \
	X(TYPESCRIPT, "TypeScript") \
	X(TYPST, "Typst") \
	X(UNITY3DASSET, "Unity3D Asset") \
	X(VBA, "VBA") \
	X(VBSCRIPT, "VBScript") \
	X(VHDL, "VHDL") \
	X(VALA, "Vala") \
	X(VERILOG, "Verilog") \
	X(VIMSCRIPT, "Vim Script") \
	X(VBNET, "Visual Basic .NET") \
	X(VB6, "Visual Basic 6.0") \
	X(VUE, "Vue") \
	X(WGSL, "WGSL") \
	X(WEBASSEMBLY, "WebAssembly") \
	X(WEBIDL, "WebIDL") \
	X(WIKITEXT, "Wikitext") \
	X(WINREG, "Windows Registry Entries") \
	X(XML, "XML") \
	X(XMLPLIST, "XML Property List") \
	X(XSLT, "XSLT") \
	X(YAML, "YAML") \
	X(YACC, "Yacc") \
	X(ZIG, "Zig") \
	X(CRONTAB, "crontab") \
	X(DESKTOP, "desktop") \
	X(EDN, "edn") \
	X(FISH, "fish") \
	X(JQ, "jq") \
	X(RST, "reStructuredText") \
	X(ROBOTSTXT, "robots.txt") \
	X(SED, "sed")

enum lang_id {
	L_UNKNOWN = LANG_UNKNOWN,
#define X(id, name) L_##id,
	LANG_LIST(X)
#undef X
	L_END
};

_Static_assert(L_END - 1 <= UINT16_MAX, "language ids are 16 bits in shards");

static const char *const lang_names[] = {
	"",
#define X(id, name) name,
	LANG_LIST(X)
#undef X
};

_Static_assert(ARRAY_LEN(lang_names) == L_END, "one name per id");

struct lang_key {
	const char *key;
	uint16_t lang;
};

/*
 * ext_table: extensions without the dot, lowercase, sorted bytewise. filename_table: whole file
 * names, exact case, sorted bytewise. alias_table: every language's name in lowercase plus its
 * aliases (linguist's and a few common ones such as "py", "kt", "hs", "tf"), sorted bytewise.
 */
static const struct lang_key ext_table[] = {
	{ "1", L_ROFF }, { "1in", L_ROFF }, { "1m", L_ROFF }, { "1x", L_ROFF }, { "2", L_ROFF },
	{ "3", L_ROFF }, { "3in", L_ROFF }, { "3m", L_ROFF }, { "3p", L_ROFF }, { "3pm", L_ROFF },
	{ "3qt", L_ROFF }, { "3x", L_ROFF }, { "4", L_ROFF }, { "4dform", L_JSON },
	{ "4dproject", L_JSON }, { "5", L_ROFF }, { "6", L_ROFF }, { "6pl", L_RAKU },
	{ "6pm", L_RAKU }, { "7", L_ROFF }, { "8", L_ROFF }, { "9", L_ROFF },
	{ "_coffee", L_COFFEESCRIPT }, { "_js", L_JAVASCRIPT }, { "_ls", L_LIVESCRIPT },
	{ "a51", L_ASSEMBLY }, { "abap", L_ABAP }, { "ada", L_ADA }, { "adb", L_ADA },
	{ "adml", L_XML }, { "admx", L_XML }, { "ado", L_STATA }, { "adoc", L_ASCIIDOC },
	{ "adp", L_TCL }, { "ads", L_ADA }, { "agda", L_AGDA }, { "ahk", L_AUTOHOTKEY },
	{ "ahkl", L_AUTOHOTKEY }, { "al", L_PERL }, { "anim", L_UNITY3DASSET }, { "ant", L_XML },
	{ "apacheconf", L_APACHECONF }, { "apex", L_APEX }, { "app", L_ERLANG },
	{ "app.src", L_ERLANG }, { "applescript", L_APPLESCRIPT }, { "as", L_ACTIONSCRIPT },
	{ "asc", L_ASCIIDOC }, { "asciidoc", L_ASCIIDOC }, { "asd", L_COMMONLISP },
	{ "asm", L_ASSEMBLY }, { "asset", L_UNITY3DASSET }, { "astro", L_ASTRO },
	{ "au3", L_AUTOIT }, { "auk", L_AWK }, { "aux", L_TEX }, { "avsc", L_JSON },
	{ "aw", L_PHP }, { "awk", L_AWK }, { "axaml", L_XML }, { "axml", L_XML },
	{ "b", L_BRAINFUCK }, { "bas", L_VB6 }, { "bash", L_SHELL }, { "bat", L_BATCHFILE },
	{ "bats", L_SHELL }, { "bb", L_BITBAKE }, { "bbappend", L_BITBAKE },
	{ "bbclass", L_BITBAKE }, { "bbx", L_TEX }, { "bdy", L_PLSQL }, { "bf", L_BRAINFUCK },
	{ "bib", L_BIBTEX }, { "bibtex", L_BIBTEX }, { "bicep", L_BICEP },
	{ "bicepparam", L_BICEP }, { "blade", L_BLADE }, { "blade.php", L_BLADE },
	{ "bones", L_JAVASCRIPT }, { "boot", L_CLOJURE }, { "builder", L_RUBY },
	{ "builds", L_XML }, { "bzl", L_STARLARK }, { "c", L_C }, { "c++", L_CPP },
	{ "cake", L_CSHARP }, { "capnp", L_CAPNPROTO }, { "cats", L_C }, { "cbl", L_COBOL },
	{ "cbx", L_TEX }, { "cc", L_CPP }, { "ccp", L_COBOL }, { "ccproj", L_XML },
	{ "ccxml", L_XML }, { "cdf", L_MATHEMATICA }, { "cfg", L_INI }, { "cfm", L_COLDFUSION },
	{ "cfml", L_COLDFUSION }, { "cgi", L_PERL }, { "cginc", L_HLSL }, { "cjs", L_JAVASCRIPT },
	{ "cjsx", L_COFFEESCRIPT }, { "cl", L_OPENCL }, { "cl2", L_CLOJURE }, { "clixml", L_XML },
	{ "clj", L_CLOJURE }, { "cljc", L_CLOJURE }, { "cljs", L_CLOJURE },
	{ "cljs.hl", L_CLOJURE }, { "cljscm", L_CLOJURE }, { "cljx", L_CLOJURE }, { "cls", L_TEX },
	{ "cmake", L_CMAKE }, { "cmake.in", L_CMAKE }, { "cmd", L_BATCHFILE }, { "cnf", L_INI },
	{ "cob", L_COBOL }, { "cobol", L_COBOL }, { "code-snippets", L_JSONC },
	{ "code-workspace", L_JSONC }, { "coffee", L_COFFEESCRIPT }, { "command", L_SHELL },
	{ "containerfile", L_DOCKERFILE }, { "coq", L_ROCQ }, { "cp", L_CPP }, { "cpp", L_CPP },
	{ "cppm", L_CPP }, { "cproject", L_XML }, { "cpy", L_COBOL }, { "cql", L_SQL },
	{ "cr", L_CRYSTAL }, { "cs", L_CSHARP }, { "cs.pp", L_CSHARP }, { "cscfg", L_XML },
	{ "csdef", L_XML }, { "csh", L_TCSH }, { "cshtml", L_HTMLRAZOR }, { "csl", L_XML },
	{ "csproj", L_XML }, { "css", L_CSS }, { "csv", L_CSV }, { "csx", L_CSHARP },
	{ "ct", L_XML }, { "ctl", L_VB6 }, { "ctp", L_PHP }, { "cts", L_TYPESCRIPT },
	{ "cu", L_CUDA }, { "cue", L_CUE }, { "cuh", L_CUDA }, { "cxx", L_CPP }, { "d", L_D },
	{ "dart", L_DART }, { "ddl", L_SQL }, { "depproj", L_XML }, { "desktop", L_DESKTOP },
	{ "desktop.in", L_DESKTOP }, { "dfm", L_PASCAL }, { "dhall", L_DHALL }, { "di", L_D },
	{ "diff", L_DIFF }, { "dita", L_XML }, { "ditamap", L_XML }, { "ditaval", L_XML },
	{ "dll.config", L_XML }, { "do", L_STATA }, { "dockerfile", L_DOCKERFILE },
	{ "dof", L_INI }, { "doh", L_STATA }, { "dot", L_GRAPHVIZ }, { "dotsettings", L_XML },
	{ "dpr", L_PASCAL }, { "dsr", L_VB6 }, { "dtx", L_TEX }, { "ect", L_EJS },
	{ "editorconfig", L_EDITORCONFIG }, { "edn", L_EDN }, { "ejs", L_EJS }, { "ejs.t", L_EJS },
	{ "el", L_EMACSLISP }, { "eliom", L_OCAML }, { "eliomi", L_OCAML }, { "elm", L_ELM },
	{ "emacs", L_EMACSLISP }, { "emacs.desktop", L_EMACSLISP }, { "env", L_DOTENV },
	{ "eps", L_POSTSCRIPT }, { "epsi", L_POSTSCRIPT }, { "erb", L_HTMLERB },
	{ "erb.deface", L_HTMLERB }, { "erl", L_ERLANG }, { "es", L_JAVASCRIPT },
	{ "es6", L_JAVASCRIPT }, { "escript", L_ERLANG }, { "ex", L_ELIXIR }, { "exs", L_ELIXIR },
	{ "eye", L_RUBY }, { "f", L_FORTRAN }, { "f03", L_FORTRANFREE }, { "f08", L_FORTRANFREE },
	{ "f77", L_FORTRAN }, { "f90", L_FORTRANFREE }, { "f95", L_FORTRANFREE },
	{ "feature", L_GHERKIN }, { "filters", L_XML }, { "fish", L_FISH }, { "fnc", L_PLSQL },
	{ "fnl", L_FENNEL }, { "for", L_FORTRAN }, { "fp", L_GLSL }, { "fpp", L_FORTRAN },
	{ "frag", L_GLSL }, { "frg", L_GLSL }, { "frm", L_VB6 }, { "fs", L_FSHARP },
	{ "fsh", L_GLSL }, { "fshader", L_GLSL }, { "fsi", L_FSHARP }, { "fsproj", L_XML },
	{ "fsx", L_FSHARP }, { "fun", L_STANDARDML }, { "fx", L_HLSL }, { "fxh", L_HLSL },
	{ "fxml", L_XML }, { "g4", L_ANTLR }, { "gawk", L_AWK }, { "gd", L_GDSCRIPT },
	{ "gemspec", L_RUBY }, { "geo", L_GLSL }, { "geojson", L_JSON }, { "geom", L_GLSL },
	{ "gitconfig", L_GITCONFIG }, { "gitignore", L_IGNORELIST }, { "glade", L_XML },
	{ "gleam", L_GLEAM }, { "glsl", L_GLSL }, { "glslf", L_GLSL }, { "glslv", L_GLSL },
	{ "gltf", L_JSON }, { "gml", L_GAMEMAKER }, { "gmx", L_XML }, { "gn", L_GN },
	{ "gni", L_GN }, { "go", L_GO }, { "god", L_RUBY }, { "gpx", L_XML }, { "gql", L_GRAPHQL },
	{ "gradle", L_GRADLE }, { "gradle.kts", L_GRADLEKTS }, { "graphql", L_GRAPHQL },
	{ "graphqls", L_GRAPHQL }, { "groovy", L_GROOVY }, { "grt", L_GROOVY }, { "grxml", L_XML },
	{ "gs", L_JAVASCRIPT }, { "gshader", L_GLSL }, { "gst", L_XML }, { "gtpl", L_GROOVY },
	{ "gv", L_GRAPHVIZ }, { "gvy", L_GROOVY }, { "gyp", L_PYTHON }, { "gypi", L_PYTHON },
	{ "h", L_C }, { "h++", L_CPP }, { "h.in", L_C }, { "hack", L_HACK }, { "haml", L_HAML },
	{ "haml.deface", L_HAML }, { "handlebars", L_HANDLEBARS }, { "har", L_JSON },
	{ "hbs", L_HANDLEBARS }, { "hcl", L_HCL }, { "heex", L_HTMLEEX }, { "hh", L_CPP },
	{ "hhi", L_HACK }, { "hic", L_CLOJURE }, { "hlean", L_LEAN }, { "hlsl", L_HLSL },
	{ "hlsli", L_HLSL }, { "hpp", L_CPP }, { "hrl", L_ERLANG }, { "hs", L_HASKELL },
	{ "hs-boot", L_HASKELL }, { "hsc", L_HASKELL }, { "hta", L_HTML }, { "htm", L_HTML },
	{ "html", L_HTML }, { "html.eex", L_HTMLEEX }, { "html.hl", L_HTML }, { "hx", L_HAXE },
	{ "hxsl", L_HAXE }, { "hxx", L_CPP }, { "hzp", L_XML }, { "i", L_SWIG }, { "ice", L_JSON },
	{ "iced", L_COFFEESCRIPT }, { "idc", L_C }, { "idr", L_IDRIS }, { "ihlp", L_STATA },
	{ "iml", L_XML }, { "inc", L_PHP }, { "ini", L_INI }, { "inl", L_CPP }, { "ino", L_CPP },
	{ "ins", L_TEX }, { "ipp", L_CPP }, { "ipynb", L_JUPYTER }, { "isl", L_INNOSETUP },
	{ "iss", L_INNOSETUP }, { "iuml", L_PLANTUML }, { "ivy", L_XML }, { "ixx", L_CPP },
	{ "j2", L_JINJA }, { "jade", L_PUG }, { "jake", L_JAVASCRIPT }, { "jav", L_JAVA },
	{ "java", L_JAVA }, { "javascript", L_JAVASCRIPT }, { "jbuilder", L_RUBY },
	{ "jelly", L_XML }, { "jinja", L_JINJA }, { "jinja2", L_JINJA }, { "jl", L_JULIA },
	{ "jq", L_JQ }, { "js", L_JAVASCRIPT }, { "jsb", L_JAVASCRIPT }, { "jscad", L_JAVASCRIPT },
	{ "jsfl", L_JAVASCRIPT }, { "jsh", L_JAVA }, { "jslib", L_JAVASCRIPT },
	{ "jsm", L_JAVASCRIPT }, { "json", L_JSON }, { "json-tmlanguage", L_JSON },
	{ "json.example", L_JSON }, { "json5", L_JSON5 }, { "jsonc", L_JSONC }, { "jsonl", L_JSON },
	{ "jsonld", L_JSONLD }, { "jsonnet", L_JSONNET }, { "jsp", L_JSP },
	{ "jspre", L_JAVASCRIPT }, { "jsproj", L_XML }, { "jss", L_JAVASCRIPT }, { "jst", L_EJS },
	{ "jsx", L_JAVASCRIPT }, { "just", L_JUST }, { "kml", L_XML }, { "kojo", L_SCALA },
	{ "ksh", L_SHELL }, { "kt", L_KOTLIN }, { "ktm", L_KOTLIN }, { "kts", L_KOTLIN },
	{ "l", L_LEX }, { "launch", L_XML }, { "lbx", L_TEX }, { "ld", L_LINKERSCRIPT },
	{ "lds", L_LINKERSCRIPT }, { "lean", L_LEAN }, { "leex", L_HTMLEEX },
	{ "lektorproject", L_INI }, { "less", L_LESS }, { "lex", L_LEX },
	{ "lhs", L_LITERATEHASKELL }, { "libsonnet", L_JSONNET }, { "lidr", L_IDRIS },
	{ "linq", L_CSHARP }, { "liquid", L_LIQUID }, { "lisp", L_COMMONLISP },
	{ "livemd", L_MARKDOWN }, { "ll", L_LLVM }, { "lmi", L_PYTHON }, { "lpr", L_PASCAL },
	{ "ls", L_LIVESCRIPT }, { "lsp", L_COMMONLISP }, { "ltx", L_TEX }, { "lua", L_LUA },
	{ "luau", L_LUAU }, { "m", L_OBJC }, { "m4", L_M4 }, { "ma", L_MATHEMATICA },
	{ "mak", L_MAKEFILE }, { "make", L_MAKEFILE }, { "makefile", L_MAKEFILE },
	{ "man", L_ROFF }, { "markdown", L_MARKDOWN }, { "mat", L_UNITY3DASSET },
	{ "mata", L_STATA }, { "matah", L_STATA }, { "mathematica", L_MATHEMATICA },
	{ "matlab", L_MATLAB }, { "mawk", L_AWK }, { "mcmeta", L_JSON }, { "md", L_MARKDOWN },
	{ "mdoc", L_ROFF }, { "mdown", L_MARKDOWN }, { "mdpolicy", L_XML }, { "mdwn", L_MARKDOWN },
	{ "mdx", L_MDX }, { "me", L_ROFF }, { "mediawiki", L_WIKITEXT }, { "mermaid", L_MERMAID },
	{ "meta", L_UNITY3DASSET }, { "mir", L_YAML }, { "mjml", L_XML }, { "mjs", L_JAVASCRIPT },
	{ "mk", L_MAKEFILE }, { "mkd", L_MARKDOWN }, { "mkdn", L_MARKDOWN },
	{ "mkdown", L_MARKDOWN }, { "mkfile", L_MAKEFILE }, { "mkii", L_TEX }, { "mkiv", L_TEX },
	{ "mkvi", L_TEX }, { "ml", L_OCAML }, { "ml4", L_OCAML }, { "mli", L_OCAML },
	{ "mlir", L_MLIR }, { "mll", L_OCAML }, { "mly", L_OCAML }, { "mm", L_OBJCPP },
	{ "mmd", L_MERMAID }, { "mojo", L_MOJO }, { "ms", L_ROFF }, { "mspec", L_RUBY },
	{ "mt", L_MATHEMATICA }, { "mts", L_TYPESCRIPT }, { "mustache", L_MUSTACHE },
	{ "mxml", L_XML }, { "mysql", L_SQL }, { "nas", L_ASSEMBLY }, { "nasm", L_ASSEMBLY },
	{ "natvis", L_XML }, { "nawk", L_AWK }, { "nb", L_MATHEMATICA }, { "nbp", L_MATHEMATICA },
	{ "ndproj", L_XML }, { "nf", L_NEXTFLOW }, { "nginx", L_NGINX }, { "nginxconf", L_NGINX },
	{ "nim", L_NIM }, { "nim.cfg", L_NIM }, { "nimble", L_NIM }, { "nimrod", L_NIM },
	{ "nims", L_NIM }, { "ninja", L_NINJA }, { "nix", L_NIX }, { "njk", L_NUNJUCKS },
	{ "njs", L_JAVASCRIPT }, { "nomad", L_HCL }, { "nproj", L_XML }, { "nqp", L_RAKU },
	{ "nse", L_LUA }, { "nsh", L_NSIS }, { "nsi", L_NSIS }, { "nu", L_NUSHELL },
	{ "nuspec", L_XML }, { "ny", L_COMMONLISP }, { "odd", L_XML }, { "odin", L_ODIN },
	{ "opencl", L_OPENCL }, { "org", L_ORG }, { "osm", L_XML }, { "p6", L_RAKU },
	{ "p6l", L_RAKU }, { "p6m", L_RAKU }, { "p8", L_LUA }, { "pac", L_JAVASCRIPT },
	{ "pas", L_PASCAL }, { "pascal", L_PASCAL }, { "patch", L_DIFF }, { "pbt", L_TEXTPROTO },
	{ "pbtxt", L_TEXTPROTO }, { "pck", L_PLSQL }, { "pcss", L_POSTCSS }, { "pd_lua", L_LUA },
	{ "pde", L_PROCESSING }, { "perl", L_PERL }, { "pfa", L_POSTSCRIPT },
	{ "pgsql", L_PLPGSQL }, { "ph", L_PERL }, { "php", L_PHP }, { "php3", L_PHP },
	{ "php4", L_PHP }, { "php5", L_PHP }, { "phps", L_PHP }, { "phpt", L_PHP },
	{ "phtml", L_HTMLPHP }, { "pkb", L_PLSQL }, { "pkgproj", L_XML }, { "pks", L_PLSQL },
	{ "pl", L_PERL }, { "pl6", L_RAKU }, { "plantuml", L_PLANTUML }, { "plb", L_PLSQL },
	{ "plist", L_XMLPLIST }, { "pls", L_PLSQL }, { "plsql", L_PLSQL }, { "pluginspec", L_RUBY },
	{ "plx", L_PERL }, { "pm", L_PERL }, { "pm6", L_RAKU }, { "po", L_GETTEXT },
	{ "pod", L_POD }, { "podsl", L_COMMONLISP }, { "podspec", L_RUBY },
	{ "postcss", L_POSTCSS }, { "pot", L_GETTEXT }, { "pp", L_PUPPET }, { "prawn", L_RUBY },
	{ "prc", L_SQL }, { "prefab", L_UNITY3DASSET }, { "prefs", L_INI }, { "pri", L_QMAKE },
	{ "prisma", L_PRISMA }, { "pro", L_QMAKE }, { "proj", L_XML }, { "prolog", L_PROLOG },
	{ "properties", L_JAVAPROPERTIES }, { "props", L_XML }, { "proto", L_PROTOBUF },
	{ "ps", L_POSTSCRIPT }, { "ps1", L_POWERSHELL }, { "ps1xml", L_XML }, { "psc1", L_XML },
	{ "psd1", L_POWERSHELL }, { "psgi", L_PERL }, { "psm1", L_POWERSHELL }, { "pt", L_XML },
	{ "pug", L_PUG }, { "puml", L_PLANTUML }, { "purs", L_PURESCRIPT }, { "pxd", L_CYTHON },
	{ "pxi", L_CYTHON }, { "py", L_PYTHON }, { "py3", L_PYTHON }, { "pyde", L_PYTHON },
	{ "pyi", L_PYTHON }, { "pyp", L_PYTHON }, { "pyt", L_PYTHON }, { "pyw", L_PYTHON },
	{ "pyx", L_CYTHON }, { "qbs", L_QML }, { "qhelp", L_XML }, { "qmd", L_RMARKDOWN },
	{ "qml", L_QML }, { "r", L_R }, { "rabl", L_RUBY }, { "rake", L_RUBY }, { "raku", L_RAKU },
	{ "rakumod", L_RAKU }, { "razor", L_HTMLRAZOR }, { "rb", L_RUBY }, { "rbi", L_RUBY },
	{ "rbuild", L_RUBY }, { "rbw", L_RUBY }, { "rbx", L_RUBY }, { "rbxs", L_LUA },
	{ "rchit", L_GLSL }, { "rd", L_R }, { "rdf", L_XML }, { "rdoc", L_RDOC },
	{ "re", L_REASON }, { "reek", L_YAML }, { "reg", L_WINREG }, { "rego", L_REGO },
	{ "rei", L_REASON }, { "res", L_RESCRIPT }, { "resi", L_RESCRIPT },
	{ "resource", L_ROBOTFRAMEWORK }, { "rest", L_RST }, { "rest.txt", L_RST },
	{ "resx", L_XML }, { "rhtml", L_HTMLERB }, { "rkt", L_RACKET }, { "rktd", L_RACKET },
	{ "rktl", L_RACKET }, { "rmd", L_RMARKDOWN }, { "rmiss", L_GLSL },
	{ "robot", L_ROBOTFRAMEWORK }, { "rockspec", L_LUA }, { "roff", L_ROFF },
	{ "ronn", L_MARKDOWN }, { "rpy", L_PYTHON }, { "rs", L_RUST }, { "rs.in", L_RUST },
	{ "rss", L_XML }, { "rst", L_RST }, { "rst.txt", L_RST }, { "rsx", L_R }, { "ru", L_RUBY },
	{ "ruby", L_RUBY }, { "rviz", L_YAML }, { "s", L_ASSEMBLY }, { "sarif", L_JSON },
	{ "sas", L_SAS }, { "sass", L_SASS }, { "sbt", L_SCALA }, { "sc", L_SCALA },
	{ "scad", L_OPENSCAD }, { "scala", L_SCALA }, { "scd", L_SUPERCOLLIDER },
	{ "scm", L_SCHEME }, { "scpt", L_APPLESCRIPT }, { "scrbl", L_RACKET }, { "scss", L_SCSS },
	{ "scxml", L_XML }, { "sdc", L_TCL }, { "sed", L_SED }, { "service", L_DESKTOP },
	{ "sexp", L_COMMONLISP }, { "sfproj", L_XML }, { "sh", L_SHELL },
	{ "sh-session", L_SHELLSESSION }, { "sh.in", L_SHELL }, { "shader", L_SHADERLAB },
	{ "shproj", L_XML }, { "sig", L_STANDARDML }, { "sjs", L_JAVASCRIPT }, { "sld", L_SCHEME },
	{ "sln", L_VSSOLUTION }, { "slnx", L_XML }, { "sls", L_SALTSTACK }, { "smali", L_SMALI },
	{ "smk", L_SNAKEMAKE }, { "sml", L_STANDARDML }, { "snakefile", L_SNAKEMAKE },
	{ "sol", L_SOLIDITY }, { "spc", L_PLSQL }, { "spec", L_RPMSPEC }, { "sps", L_SCHEME },
	{ "sql", L_SQL }, { "srdf", L_XML }, { "ss", L_SCHEME }, { "ssjs", L_JAVASCRIPT },
	{ "st", L_SMALLTALK }, { "star", L_STARLARK }, { "sthlp", L_STATA }, { "story", L_GHERKIN },
	{ "storyboard", L_XML }, { "sttheme", L_XMLPLIST }, { "sty", L_TEX }, { "styl", L_STYLUS },
	{ "sublime-build", L_JSONC }, { "sublime-color-scheme", L_JSONC },
	{ "sublime-commands", L_JSONC }, { "sublime-completions", L_JSONC },
	{ "sublime-keymap", L_JSONC }, { "sublime-macro", L_JSONC }, { "sublime-menu", L_JSONC },
	{ "sublime-mousemap", L_JSONC }, { "sublime-project", L_JSONC },
	{ "sublime-settings", L_JSONC }, { "sublime-snippet", L_XML }, { "sublime-syntax", L_YAML },
	{ "sublime-theme", L_JSONC }, { "sublime-workspace", L_JSONC },
	{ "sublime_metrics", L_JSONC }, { "sublime_session", L_JSONC }, { "sv", L_SYSTEMVERILOG },
	{ "svelte", L_SVELTE }, { "svg", L_SVG }, { "svh", L_SYSTEMVERILOG }, { "swift", L_SWIFT },
	{ "syntax", L_YAML }, { "t", L_PERL }, { "tab", L_SQL }, { "tac", L_PYTHON },
	{ "tact", L_JSON }, { "tag", L_JSP }, { "targets", L_XML }, { "tcc", L_CPP },
	{ "tcl", L_TCL }, { "tcl.in", L_TCL }, { "tcsh", L_TCSH }, { "tesc", L_GLSL },
	{ "tese", L_GLSL }, { "tex", L_TEX }, { "texi", L_TEXINFO }, { "texinfo", L_TEXINFO },
	{ "textile", L_TEXTILE }, { "textproto", L_TEXTPROTO }, { "tf", L_HCL },
	{ "tfstate", L_JSON }, { "tfstate.backup", L_JSON }, { "tftpl", L_TFTPL },
	{ "tfvars", L_HCL }, { "thor", L_RUBY }, { "thrift", L_THRIFT }, { "thy", L_ISABELLE },
	{ "tla", L_TLA }, { "tm", L_TCL }, { "tmac", L_ROFF }, { "tmcommand", L_XMLPLIST },
	{ "tml", L_XML }, { "tmlanguage", L_XMLPLIST }, { "tmpreferences", L_XMLPLIST },
	{ "tmsnippet", L_XMLPLIST }, { "tmtheme", L_XMLPLIST }, { "tmux", L_SHELL },
	{ "toc", L_TEX }, { "toml", L_TOML }, { "tool", L_SHELL }, { "topojson", L_JSON },
	{ "tpb", L_PLSQL }, { "tpl", L_SMARTY }, { "tpp", L_CPP }, { "tps", L_PLSQL },
	{ "trg", L_PLSQL }, { "trigger", L_APEX }, { "ts", L_TYPESCRIPT }, { "tsv", L_TSV },
	{ "tsx", L_TSX }, { "twig", L_TWIG }, { "txi", L_TEXINFO }, { "txt", L_TEXT },
	{ "txx", L_CPP }, { "typ", L_TYPST }, { "udf", L_SQL }, { "ui", L_XML },
	{ "unity", L_UNITY3DASSET }, { "urdf", L_XML }, { "url", L_INI }, { "ux", L_XML },
	{ "v", L_VERILOG }, { "vala", L_VALA }, { "vapi", L_VALA }, { "vb", L_VBNET },
	{ "vba", L_VBA }, { "vbhtml", L_VBNET }, { "vbproj", L_XML }, { "vbs", L_VBSCRIPT },
	{ "vcxproj", L_XML }, { "veo", L_VERILOG }, { "vert", L_GLSL }, { "vh", L_SYSTEMVERILOG },
	{ "vhd", L_VHDL }, { "vhdl", L_VHDL }, { "vhf", L_VHDL }, { "vhi", L_VHDL },
	{ "vho", L_VHDL }, { "vhost", L_APACHECONF }, { "vhs", L_VHDL }, { "vht", L_VHDL },
	{ "vhw", L_VHDL }, { "vim", L_VIMSCRIPT }, { "vimrc", L_VIMSCRIPT }, { "viw", L_SQL },
	{ "vmb", L_VIMSCRIPT }, { "vrx", L_GLSL }, { "vs", L_GLSL }, { "vsh", L_GLSL },
	{ "vshader", L_GLSL }, { "vsixmanifest", L_XML }, { "vssettings", L_XML },
	{ "vstemplate", L_XML }, { "vue", L_VUE }, { "vw", L_PLSQL }, { "vxml", L_XML },
	{ "wast", L_WEBASSEMBLY }, { "wat", L_WEBASSEMBLY }, { "watchr", L_RUBY },
	{ "webapp", L_JSON }, { "webidl", L_WEBIDL }, { "webmanifest", L_JSON }, { "wgsl", L_WGSL },
	{ "wiki", L_WIKITEXT }, { "wikitext", L_WIKITEXT }, { "wixproj", L_XML },
	{ "wl", L_MATHEMATICA }, { "wlt", L_MATHEMATICA }, { "wlua", L_LUA },
	{ "workbook", L_MARKDOWN }, { "workflow", L_HCL }, { "wsdl", L_XML }, { "wsf", L_XML },
	{ "wsgi", L_PYTHON }, { "wxi", L_XML }, { "wxl", L_XML }, { "wxs", L_XML },
	{ "x3d", L_XML }, { "xacro", L_XML }, { "xaml", L_XML }, { "xdc", L_TCL },
	{ "xht", L_HTML }, { "xhtml", L_HTML }, { "xib", L_XML }, { "xlf", L_XML },
	{ "xliff", L_XML }, { "xmi", L_XML }, { "xml", L_XML }, { "xml.dist", L_XML },
	{ "xmp", L_XML }, { "xproj", L_XML }, { "xpy", L_PYTHON }, { "xrl", L_ERLANG },
	{ "xsd", L_XML }, { "xsjs", L_JAVASCRIPT }, { "xsjslib", L_JAVASCRIPT }, { "xsl", L_XSLT },
	{ "xslt", L_XSLT }, { "xspec", L_XML }, { "xul", L_XML }, { "y", L_YACC },
	{ "yacc", L_YACC }, { "yaml", L_YAML }, { "yaml-tmlanguage", L_YAML },
	{ "yaml.sed", L_YAML }, { "yap", L_PROLOG }, { "yml", L_YAML }, { "yml.mysql", L_YAML },
	{ "yrl", L_ERLANG }, { "yy", L_YACC }, { "yyp", L_JSON }, { "zcml", L_XML },
	{ "zig", L_ZIG }, { "zig.zon", L_ZIG }, { "zsh", L_SHELL }, { "zsh-theme", L_SHELL },
};

static const struct lang_key filename_table[] = {
	{ ".JUSTFILE", L_JUST }, { ".Justfile", L_JUST }, { ".Rprofile", L_R },
	{ ".abbrev_defs", L_EMACSLISP }, { ".all-contributorsrc", L_JSON },
	{ ".arcconfig", L_JSON }, { ".atomignore", L_IGNORELIST }, { ".auto-changelog", L_JSON },
	{ ".babelignore", L_IGNORELIST }, { ".babelrc", L_JSONC }, { ".bash_aliases", L_SHELL },
	{ ".bash_functions", L_SHELL }, { ".bash_history", L_SHELL }, { ".bash_logout", L_SHELL },
	{ ".bash_profile", L_SHELL }, { ".bashrc", L_SHELL }, { ".browserslistrc", L_BROWSERSLIST },
	{ ".buckconfig", L_INI }, { ".bzrignore", L_IGNORELIST }, { ".c8rc", L_JSON },
	{ ".clang-format", L_YAML }, { ".clang-tidy", L_YAML }, { ".clangd", L_YAML },
	{ ".classpath", L_XML }, { ".coffeelintignore", L_IGNORELIST }, { ".coveragerc", L_INI },
	{ ".cproject", L_XML }, { ".cshrc", L_SHELL }, { ".cvsignore", L_IGNORELIST },
	{ ".devcontainer.json", L_JSONC }, { ".dockerignore", L_IGNORELIST },
	{ ".easignore", L_IGNORELIST }, { ".editorconfig", L_EDITORCONFIG },
	{ ".eleventyignore", L_IGNORELIST }, { ".emacs", L_EMACSLISP },
	{ ".emacs.desktop", L_EMACSLISP }, { ".env", L_DOTENV }, { ".env.ci", L_DOTENV },
	{ ".env.dev", L_DOTENV }, { ".env.development", L_DOTENV },
	{ ".env.development.local", L_DOTENV }, { ".env.example", L_DOTENV },
	{ ".env.local", L_DOTENV }, { ".env.prod", L_DOTENV }, { ".env.production", L_DOTENV },
	{ ".env.sample", L_DOTENV }, { ".env.staging", L_DOTENV }, { ".env.test", L_DOTENV },
	{ ".env.testing", L_DOTENV }, { ".envrc", L_SHELL }, { ".eslintignore", L_IGNORELIST },
	{ ".eslintrc.json", L_JSONC }, { ".exrc", L_VIMSCRIPT }, { ".flake8", L_INI },
	{ ".flaskenv", L_SHELL }, { ".gclient", L_PYTHON }, { ".gemrc", L_YAML },
	{ ".gitattributes", L_GITATTRIBUTES }, { ".gitconfig", L_GITCONFIG },
	{ ".gitignore", L_IGNORELIST }, { ".gitmodules", L_GITCONFIG }, { ".gn", L_GN },
	{ ".gnus", L_EMACSLISP }, { ".gvimrc", L_VIMSCRIPT }, { ".htaccess", L_APACHECONF },
	{ ".htmlhintrc", L_JSON }, { ".ignore", L_IGNORELIST }, { ".imgbotconfig", L_JSON },
	{ ".irbrc", L_RUBY }, { ".jscsrc", L_JSONC }, { ".jshintrc", L_JSONC },
	{ ".jslintrc", L_JSONC }, { ".justfile", L_JUST }, { ".kshrc", L_SHELL },
	{ ".latexmkrc", L_PERL }, { ".login", L_SHELL }, { ".luacheckrc", L_LUA },
	{ ".markdownlintignore", L_IGNORELIST }, { ".nodemonignore", L_IGNORELIST },
	{ ".npmignore", L_IGNORELIST }, { ".npmrc", L_NPMCONFIG }, { ".nvimrc", L_VIMSCRIPT },
	{ ".nycrc", L_JSON }, { ".php", L_PHP }, { ".php_cs", L_PHP }, { ".php_cs.dist", L_PHP },
	{ ".prettierignore", L_IGNORELIST }, { ".profile", L_SHELL }, { ".project", L_XML },
	{ ".pryrc", L_RUBY }, { ".pylintrc", L_INI }, { ".simplecov", L_RUBY },
	{ ".spacemacs", L_EMACSLISP }, { ".stylelintignore", L_IGNORELIST }, { ".swcrc", L_JSONC },
	{ ".tern-config", L_JSON }, { ".tern-project", L_JSON }, { ".tmux.conf", L_SHELL },
	{ ".vercelignore", L_IGNORELIST }, { ".vimrc", L_VIMSCRIPT }, { ".viper", L_EMACSLISP },
	{ ".vscodeignore", L_IGNORELIST }, { ".watchmanconfig", L_JSON }, { ".zlogin", L_SHELL },
	{ ".zlogout", L_SHELL }, { ".zprofile", L_SHELL }, { ".zshenv", L_SHELL },
	{ ".zshrc", L_SHELL }, { "9fs", L_SHELL }, { "App.config", L_XML },
	{ "Appraisals", L_RUBY }, { "BSDmakefile", L_MAKEFILE }, { "BUCK", L_STARLARK },
	{ "BUILD", L_STARLARK }, { "BUILD.bazel", L_STARLARK }, { "Berksfile", L_RUBY },
	{ "Brewfile", L_RUBY }, { "Buildfile", L_RUBY }, { "CITATION", L_TEXT },
	{ "CITATION.cff", L_YAML }, { "CITATIONS", L_TEXT }, { "CMakeLists.txt", L_CMAKE },
	{ "CODEOWNERS", L_CODEOWNERS }, { "COPYING", L_TEXT }, { "COPYING.regex", L_TEXT },
	{ "COPYRIGHT.regex", L_TEXT }, { "Cakefile", L_COFFEESCRIPT }, { "Capfile", L_RUBY },
	{ "Cargo.lock", L_TOML }, { "Cargo.toml.orig", L_TOML }, { "Cask", L_EMACSLISP },
	{ "Containerfile", L_DOCKERFILE }, { "DEPS", L_PYTHON }, { "Dangerfile", L_RUBY },
	{ "Deliverfile", L_RUBY }, { "Dockerfile", L_DOCKERFILE }, { "Emakefile", L_ERLANG },
	{ "FONTLOG", L_TEXT }, { "Fastfile", L_RUBY }, { "GNUmakefile", L_MAKEFILE },
	{ "Gemfile", L_RUBY }, { "Gemfile.lock", L_GEMFILELOCK }, { "Gopkg.lock", L_TOML },
	{ "Guardfile", L_RUBY }, { "INSTALL", L_TEXT }, { "INSTALL.mysql", L_TEXT },
	{ "JUSTFILE", L_JUST }, { "Jakefile", L_JAVASCRIPT }, { "Jarfile", L_RUBY },
	{ "Jenkinsfile", L_GROOVY }, { "Justfile", L_JUST }, { "Kbuild", L_MAKEFILE },
	{ "Kconfig", L_KCONFIG }, { "LICENSE", L_TEXT }, { "LICENSE.mysql", L_TEXT },
	{ "Lexer.x", L_LEX }, { "MODULE.bazel", L_STARLARK }, { "MODULE.bazel.lock", L_JSON },
	{ "Makefile", L_MAKEFILE }, { "Makefile.PL", L_PERL }, { "Makefile.am", L_MAKEFILE },
	{ "Makefile.boot", L_MAKEFILE }, { "Makefile.frag", L_MAKEFILE },
	{ "Makefile.in", L_MAKEFILE }, { "Makefile.inc", L_MAKEFILE },
	{ "Makefile.wat", L_MAKEFILE }, { "Mavenfile", L_RUBY }, { "Modulefile", L_PUPPET },
	{ "NEWS", L_TEXT }, { "Notebook", L_JUPYTER }, { "NuGet.config", L_XML },
	{ "PKGBUILD", L_SHELL }, { "Package.resolved", L_JSON }, { "Phakefile", L_PHP },
	{ "Pipfile", L_TOML }, { "Pipfile.lock", L_JSON }, { "Podfile", L_RUBY },
	{ "Procfile", L_PROCFILE }, { "Project.ede", L_EMACSLISP }, { "Puppetfile", L_RUBY },
	{ "README.me", L_TEXT }, { "README.mysql", L_TEXT }, { "README.nss", L_TEXT },
	{ "Rakefile", L_RUBY }, { "Rexfile", L_PERL }, { "SConscript", L_PYTHON },
	{ "SConstruct", L_PYTHON }, { "Settings.StyleCop", L_XML }, { "Slakefile", L_LIVESCRIPT },
	{ "Snakefile", L_SNAKEMAKE }, { "Snapfile", L_RUBY }, { "Steepfile", L_RUBY },
	{ "Thorfile", L_RUBY }, { "Tiltfile", L_STARLARK }, { "Vagrantfile", L_RUBY },
	{ "WORKSPACE", L_STARLARK }, { "WORKSPACE.bazel", L_STARLARK },
	{ "WORKSPACE.bzlmod", L_STARLARK }, { "Web.Debug.config", L_XML },
	{ "Web.Release.config", L_XML }, { "Web.config", L_XML }, { "_emacs", L_EMACSLISP },
	{ "_vimrc", L_VIMSCRIPT }, { "abbrev_defs", L_EMACSLISP }, { "ack", L_PERL },
	{ "apache2.conf", L_APACHECONF }, { "api-extractor.json", L_JSONC },
	{ "bash_aliases", L_SHELL }, { "bash_logout", L_SHELL }, { "bash_profile", L_SHELL },
	{ "bashrc", L_SHELL }, { "browserslist", L_BROWSERSLIST }, { "buildfile", L_RUBY },
	{ "buildozer.spec", L_INI }, { "bun.lock", L_JSON }, { "click.me", L_TEXT },
	{ "composer.lock", L_JSON }, { "configure.ac", L_M4SUGAR }, { "contents.lr", L_MARKDOWN },
	{ "cpanfile", L_PERL }, { "crontab", L_CRONTAB }, { "cshrc", L_SHELL },
	{ "delete.me", L_TEXT }, { "deno.lock", L_JSON }, { "devcontainer.json", L_JSONC },
	{ "dockerfile", L_DOCKERFILE }, { "eqnrc", L_ROFF }, { "expr-dist", L_R },
	{ "flake.lock", L_JSON }, { "gitignore-global", L_IGNORELIST },
	{ "gitignore_global", L_IGNORELIST }, { "glide.lock", L_YAML }, { "go.mod", L_GOMODULE },
	{ "go.sum", L_GOCHECKSUMS }, { "go.work", L_GOWORKSPACE }, { "go.work.sum", L_GOCHECKSUMS },
	{ "gradlew", L_SHELL }, { "gvimrc", L_VIMSCRIPT }, { "httpd.conf", L_APACHECONF },
	{ "jsconfig.json", L_JSONC }, { "justfile", L_JUST }, { "keep.me", L_TEXT },
	{ "kshrc", L_SHELL }, { "language-configuration.json", L_JSONC }, { "latexmkrc", L_PERL },
	{ "ld.script", L_LINKERSCRIPT }, { "lexer.x", L_LEX }, { "login", L_SHELL },
	{ "makefile", L_MAKEFILE }, { "makefile.sco", L_MAKEFILE }, { "man", L_SHELL },
	{ "mcmod.info", L_JSON }, { "meson.build", L_MESON }, { "meson_options.txt", L_MESON },
	{ "mix.lock", L_ELIXIR }, { "mkfile", L_MAKEFILE }, { "mmn", L_ROFF }, { "mmt", L_ROFF },
	{ "nextflow.config", L_NEXTFLOW }, { "nginx.conf", L_NGINX }, { "nim.cfg", L_NIM },
	{ "nvimrc", L_VIMSCRIPT }, { "owh", L_TCL }, { "package.mask", L_TEXT },
	{ "package.use.mask", L_TEXT }, { "package.use.stable.mask", L_TEXT },
	{ "packages.config", L_XML }, { "pdm.lock", L_TOML }, { "pixi.lock", L_YAML },
	{ "poetry.lock", L_TOML }, { "profile", L_SHELL }, { "pylintrc", L_INI },
	{ "read.me", L_TEXT }, { "readme.1st", L_TEXT }, { "rebar.config", L_ERLANG },
	{ "rebar.config.lock", L_ERLANG }, { "rebar.lock", L_ERLANG },
	{ "requirements-dev.txt", L_PIPREQ }, { "requirements.txt", L_PIPREQ },
	{ "riemann.config", L_CLOJURE }, { "robots.txt", L_ROBOTSTXT },
	{ "ssh-config", L_SSHCONFIG }, { "ssh_config", L_SSHCONFIG }, { "sshconfig", L_SSHCONFIG },
	{ "sshconfig.snip", L_SSHCONFIG }, { "sshd-config", L_SSHCONFIG },
	{ "sshd_config", L_SSHCONFIG }, { "starfield", L_TCL }, { "test.me", L_TEXT },
	{ "tmux.conf", L_SHELL }, { "troffrc", L_ROFF }, { "troffrc-end", L_ROFF },
	{ "tsconfig.json", L_JSONC }, { "tslint.json", L_JSONC }, { "use.mask", L_TEXT },
	{ "use.stable.mask", L_TEXT }, { "uv.lock", L_TOML }, { "vimrc", L_VIMSCRIPT },
	{ "vlcrc", L_INI }, { "wscript", L_PYTHON }, { "yarn.lock", L_YAML }, { "zlogin", L_SHELL },
	{ "zlogout", L_SHELL }, { "zprofile", L_SHELL }, { "zshenv", L_SHELL },
	{ "zshrc", L_SHELL },
};

static const struct lang_key alias_table[] = {
	{ "abap", L_ABAP }, { "aconf", L_APACHECONF }, { "actionscript", L_ACTIONSCRIPT },
	{ "actionscript 3", L_ACTIONSCRIPT }, { "actionscript3", L_ACTIONSCRIPT }, { "ada", L_ADA },
	{ "ada2005", L_ADA }, { "ada95", L_ADA }, { "adoc", L_ASCIIDOC }, { "agda", L_AGDA },
	{ "ahk", L_AUTOHOTKEY }, { "antlr", L_ANTLR }, { "apache", L_APACHECONF },
	{ "apacheconf", L_APACHECONF }, { "apex", L_APEX }, { "applescript", L_APPLESCRIPT },
	{ "as3", L_ACTIONSCRIPT }, { "asciidoc", L_ASCIIDOC }, { "asm", L_ASSEMBLY },
	{ "assembly", L_ASSEMBLY }, { "astro", L_ASTRO }, { "au3", L_AUTOIT },
	{ "autoconf", L_M4SUGAR }, { "autohotkey", L_AUTOHOTKEY }, { "autoit", L_AUTOIT },
	{ "autoit3", L_AUTOIT }, { "autoitscript", L_AUTOIT }, { "awk", L_AWK },
	{ "bash", L_SHELL }, { "bash session", L_SHELLSESSION }, { "bat", L_BATCHFILE },
	{ "batch", L_BATCHFILE }, { "batchfile", L_BATCHFILE }, { "bazel", L_STARLARK },
	{ "bibtex", L_BIBTEX }, { "bicep", L_BICEP }, { "bitbake", L_BITBAKE },
	{ "blade", L_BLADE }, { "brainfuck", L_BRAINFUCK }, { "browserslist", L_BROWSERSLIST },
	{ "bsdmake", L_MAKEFILE }, { "bzl", L_STARLARK }, { "c", L_C }, { "c#", L_CSHARP },
	{ "c++", L_CPP }, { "cake", L_CSHARP }, { "cakescript", L_CSHARP },
	{ "cap'n proto", L_CAPNPROTO }, { "cfm", L_COLDFUSION }, { "cfml", L_COLDFUSION },
	{ "classic visual basic", L_VB6 }, { "clojure", L_CLOJURE }, { "cmake", L_CMAKE },
	{ "cobol", L_COBOL }, { "codeowners", L_CODEOWNERS }, { "coffee", L_COFFEESCRIPT },
	{ "coffee-script", L_COFFEESCRIPT }, { "coffeescript", L_COFFEESCRIPT },
	{ "coldfusion", L_COLDFUSION }, { "coldfusion html", L_COLDFUSION },
	{ "common lisp", L_COMMONLISP }, { "console", L_SHELLSESSION },
	{ "containerfile", L_DOCKERFILE }, { "coq", L_ROCQ }, { "cperl", L_PERL }, { "cpp", L_CPP },
	{ "cron", L_CRONTAB }, { "cron table", L_CRONTAB }, { "crontab", L_CRONTAB },
	{ "crystal", L_CRYSTAL }, { "csharp", L_CSHARP }, { "css", L_CSS }, { "csv", L_CSV },
	{ "cucumber", L_GHERKIN }, { "cuda", L_CUDA }, { "cue", L_CUE }, { "cython", L_CYTHON },
	{ "d", L_D }, { "dart", L_DART }, { "delphi", L_PASCAL }, { "desktop", L_DESKTOP },
	{ "dhall", L_DHALL }, { "diff", L_DIFF }, { "django", L_JINJA }, { "dlang", L_D },
	{ "docker", L_DOCKERFILE }, { "dockerfile", L_DOCKERFILE }, { "dosbatch", L_BATCHFILE },
	{ "dosini", L_INI }, { "dot", L_GRAPHVIZ }, { "dotenv", L_DOTENV },
	{ "editor-config", L_EDITORCONFIG }, { "editorconfig", L_EDITORCONFIG }, { "edn", L_EDN },
	{ "eex", L_HTMLEEX }, { "ejs", L_EJS }, { "elisp", L_EMACSLISP }, { "elixir", L_ELIXIR },
	{ "elm", L_ELM }, { "emacs", L_EMACSLISP }, { "emacs lisp", L_EMACSLISP },
	{ "envrc", L_SHELL }, { "erb", L_HTMLERB }, { "erlang", L_ERLANG }, { "f#", L_FSHARP },
	{ "fennel", L_FENNEL }, { "fish", L_FISH }, { "flex", L_LEX }, { "fortran", L_FORTRAN },
	{ "fortran free form", L_FORTRANFREE }, { "fsharp", L_FSHARP }, { "fundamental", L_TEXT },
	{ "game maker language", L_GAMEMAKER }, { "gdscript", L_GDSCRIPT },
	{ "gemfile.lock", L_GEMFILELOCK }, { "geojson", L_JSON }, { "gettext catalog", L_GETTEXT },
	{ "gherkin", L_GHERKIN }, { "git attributes", L_GITATTRIBUTES },
	{ "git config", L_GITCONFIG }, { "git-ignore", L_IGNORELIST },
	{ "gitattributes", L_GITATTRIBUTES }, { "gitconfig", L_GITCONFIG },
	{ "gitignore", L_IGNORELIST }, { "gitmodules", L_GITCONFIG }, { "gleam", L_GLEAM },
	{ "glsl", L_GLSL }, { "gn", L_GN }, { "go", L_GO }, { "go checksums", L_GOCHECKSUMS },
	{ "go mod", L_GOMODULE }, { "go module", L_GOMODULE }, { "go sum", L_GOCHECKSUMS },
	{ "go work", L_GOWORKSPACE }, { "go work sum", L_GOCHECKSUMS },
	{ "go workspace", L_GOWORKSPACE }, { "go.mod", L_GOMODULE }, { "go.sum", L_GOCHECKSUMS },
	{ "go.work", L_GOWORKSPACE }, { "go.work.sum", L_GOCHECKSUMS }, { "golang", L_GO },
	{ "gradle", L_GRADLE }, { "gradle kotlin dsl", L_GRADLEKTS }, { "graphql", L_GRAPHQL },
	{ "graphviz", L_GRAPHVIZ }, { "graphviz (dot)", L_GRAPHVIZ }, { "groff", L_ROFF },
	{ "groovy", L_GROOVY }, { "hack", L_HACK }, { "haml", L_HAML },
	{ "handlebars", L_HANDLEBARS }, { "hashicorp configuration language", L_HCL },
	{ "haskell", L_HASKELL }, { "haxe", L_HAXE }, { "hbs", L_HANDLEBARS }, { "hcl", L_HCL },
	{ "heex", L_HTMLEEX }, { "hlsl", L_HLSL }, { "hs", L_HASKELL }, { "html", L_HTML },
	{ "html+django", L_JINJA }, { "html+eex", L_HTMLEEX }, { "html+erb", L_HTMLERB },
	{ "html+jinja", L_JINJA }, { "html+php", L_HTMLPHP }, { "html+razor", L_HTMLRAZOR },
	{ "html+ruby", L_HTMLERB }, { "htmlbars", L_HANDLEBARS }, { "htmldjango", L_JINJA },
	{ "idris", L_IDRIS }, { "ignore", L_IGNORELIST }, { "ignore list", L_IGNORELIST },
	{ "inc", L_PHP }, { "ini", L_INI }, { "inno setup", L_INNOSETUP }, { "ipynb", L_JUPYTER },
	{ "ipython notebook", L_JUPYTER }, { "isabelle", L_ISABELLE }, { "java", L_JAVA },
	{ "java properties", L_JAVAPROPERTIES }, { "java server pages", L_JSP },
	{ "javascript", L_JAVASCRIPT }, { "jinja", L_JINJA }, { "jq", L_JQ }, { "jruby", L_RUBY },
	{ "js", L_JAVASCRIPT }, { "json", L_JSON }, { "json with comments", L_JSONC },
	{ "json5", L_JSON5 }, { "jsonc", L_JSONC }, { "jsonl", L_JSON }, { "jsonld", L_JSONLD },
	{ "jsonnet", L_JSONNET }, { "jsp", L_JSP }, { "jsx", L_JAVASCRIPT }, { "julia", L_JULIA },
	{ "jupyter notebook", L_JUPYTER }, { "just", L_JUST }, { "justfile", L_JUST },
	{ "kconfig", L_KCONFIG }, { "kotlin", L_KOTLIN }, { "kt", L_KOTLIN }, { "latex", L_TEX },
	{ "lean", L_LEAN }, { "leex", L_HTMLEEX }, { "less", L_LESS }, { "less-css", L_LESS },
	{ "lex", L_LEX }, { "lhaskell", L_LITERATEHASKELL }, { "lhs", L_LITERATEHASKELL },
	{ "linker script", L_LINKERSCRIPT }, { "liquid", L_LIQUID }, { "lisp", L_COMMONLISP },
	{ "literate haskell", L_LITERATEHASKELL }, { "live-script", L_LIVESCRIPT },
	{ "livescript", L_LIVESCRIPT }, { "llvm", L_LLVM }, { "ls", L_LIVESCRIPT },
	{ "lua", L_LUA }, { "luau", L_LUAU }, { "m4", L_M4 }, { "m4sugar", L_M4SUGAR },
	{ "macruby", L_RUBY }, { "make", L_MAKEFILE }, { "makefile", L_MAKEFILE },
	{ "man", L_ROFF }, { "man page", L_ROFF }, { "man-page", L_ROFF }, { "manpage", L_ROFF },
	{ "markdown", L_MARKDOWN }, { "mathematica", L_MATHEMATICA }, { "matlab", L_MATLAB },
	{ "md", L_MARKDOWN }, { "mdoc", L_ROFF }, { "mdx", L_MDX }, { "mediawiki", L_WIKITEXT },
	{ "mermaid", L_MERMAID }, { "meson", L_MESON }, { "mf", L_MAKEFILE },
	{ "microsoft visual studio solution", L_VSSOLUTION }, { "mlir", L_MLIR },
	{ "mma", L_MATHEMATICA }, { "mojo", L_MOJO }, { "mustache", L_MUSTACHE },
	{ "nasm", L_ASSEMBLY }, { "nextflow", L_NEXTFLOW }, { "nginx", L_NGINX },
	{ "nginx configuration file", L_NGINX }, { "nim", L_NIM }, { "ninja", L_NINJA },
	{ "nix", L_NIX }, { "nixos", L_NIX }, { "njk", L_NUNJUCKS }, { "node", L_JAVASCRIPT },
	{ "npm config", L_NPMCONFIG }, { "npmrc", L_NPMCONFIG }, { "nroff", L_ROFF },
	{ "nsis", L_NSIS }, { "nu-script", L_NUSHELL }, { "nunjucks", L_NUNJUCKS },
	{ "nushell", L_NUSHELL }, { "nushell-script", L_NUSHELL }, { "nvim", L_VIMSCRIPT },
	{ "obj-c", L_OBJC }, { "obj-c++", L_OBJCPP }, { "objc", L_OBJC }, { "objc++", L_OBJCPP },
	{ "objective-c", L_OBJC }, { "objective-c++", L_OBJCPP }, { "objectivec", L_OBJC },
	{ "objectivec++", L_OBJCPP }, { "objectpascal", L_PASCAL }, { "ocaml", L_OCAML },
	{ "octave", L_MATLAB }, { "odin", L_ODIN }, { "odin-lang", L_ODIN }, { "odinlang", L_ODIN },
	{ "opa", L_REGO }, { "open policy agent", L_REGO }, { "opencl", L_OPENCL },
	{ "openscad", L_OPENSCAD }, { "org", L_ORG }, { "osascript", L_APPLESCRIPT },
	{ "pandoc", L_MARKDOWN }, { "pascal", L_PASCAL }, { "perl", L_PERL }, { "perl-6", L_RAKU },
	{ "perl6", L_RAKU }, { "php", L_PHP }, { "pip requirements", L_PIPREQ },
	{ "plain text", L_TEXT }, { "plantuml", L_PLANTUML }, { "plpgsql", L_PLPGSQL },
	{ "plsql", L_PLSQL }, { "pod", L_POD }, { "posh", L_POWERSHELL }, { "postcss", L_POSTCSS },
	{ "postscr", L_POSTSCRIPT }, { "postscript", L_POSTSCRIPT }, { "pot", L_GETTEXT },
	{ "powershell", L_POWERSHELL }, { "prisma", L_PRISMA }, { "processing", L_PROCESSING },
	{ "procfile", L_PROCFILE }, { "prolog", L_PROLOG }, { "proto", L_PROTOBUF },
	{ "protobuf", L_PROTOBUF }, { "protobuf text format", L_TEXTPROTO },
	{ "protocol buffer", L_PROTOBUF }, { "protocol buffer text format", L_TEXTPROTO },
	{ "protocol buffers", L_PROTOBUF }, { "pug", L_PUG }, { "puppet", L_PUPPET },
	{ "purescript", L_PURESCRIPT }, { "pwsh", L_POWERSHELL }, { "py", L_PYTHON },
	{ "pyrex", L_CYTHON }, { "python", L_PYTHON }, { "python3", L_PYTHON },
	{ "qmake", L_QMAKE }, { "qml", L_QML }, { "r", L_R }, { "racket", L_RACKET },
	{ "rake", L_RUBY }, { "raku", L_RAKU }, { "razor", L_HTMLRAZOR }, { "rb", L_RUBY },
	{ "rbx", L_RUBY }, { "rdoc", L_RDOC }, { "reason", L_REASON }, { "rego", L_REGO },
	{ "rescript", L_RESCRIPT }, { "restructuredtext", L_RST }, { "rhtml", L_HTMLERB },
	{ "rmarkdown", L_RMARKDOWN }, { "robotframework", L_ROBOTFRAMEWORK },
	{ "robots", L_ROBOTSTXT }, { "robots txt", L_ROBOTSTXT }, { "robots.txt", L_ROBOTSTXT },
	{ "rocq", L_ROCQ }, { "rocq prover", L_ROCQ }, { "roff", L_ROFF },
	{ "rpm spec", L_RPMSPEC }, { "rs", L_RUST }, { "rscript", L_R }, { "rss", L_XML },
	{ "rst", L_RST }, { "ruby", L_RUBY }, { "rust", L_RUST }, { "rusthon", L_PYTHON },
	{ "salt", L_SALTSTACK }, { "saltstack", L_SALTSTACK }, { "saltstate", L_SALTSTACK },
	{ "sarif", L_JSON }, { "sas", L_SAS }, { "sass", L_SASS }, { "scala", L_SCALA },
	{ "scheme", L_SCHEME }, { "scss", L_SCSS }, { "sdc", L_TCL }, { "sed", L_SED },
	{ "sh", L_SHELL }, { "shaderlab", L_SHADERLAB }, { "shell", L_SHELL },
	{ "shell-script", L_SHELL }, { "shellsession", L_SHELLSESSION }, { "smali", L_SMALI },
	{ "smalltalk", L_SMALLTALK }, { "smarty", L_SMARTY }, { "sml", L_STANDARDML },
	{ "snakefile", L_SNAKEMAKE }, { "snakemake", L_SNAKEMAKE }, { "solidity", L_SOLIDITY },
	{ "specfile", L_RPMSPEC }, { "splus", L_R }, { "sql", L_SQL }, { "squeak", L_SMALLTALK },
	{ "ssh config", L_SSHCONFIG }, { "ssh_config", L_SSHCONFIG }, { "sshconfig", L_SSHCONFIG },
	{ "sshd_config", L_SSHCONFIG }, { "sshdconfig", L_SSHCONFIG },
	{ "standard ml", L_STANDARDML }, { "starlark", L_STARLARK }, { "stata", L_STATA },
	{ "stylus", L_STYLUS }, { "supercollider", L_SUPERCOLLIDER }, { "svelte", L_SVELTE },
	{ "svg", L_SVG }, { "swift", L_SWIFT }, { "swig", L_SWIG },
	{ "systemverilog", L_SYSTEMVERILOG }, { "tab-seperated values", L_TSV }, { "tcl", L_TCL },
	{ "tcsh", L_TCSH }, { "terraform", L_HCL }, { "terraform template", L_TFTPL },
	{ "tex", L_TEX }, { "texinfo", L_TEXINFO }, { "text", L_TEXT },
	{ "text proto", L_TEXTPROTO }, { "textile", L_TEXTILE }, { "tf", L_HCL },
	{ "thrift", L_THRIFT }, { "tla", L_TLA }, { "toml", L_TOML }, { "topojson", L_JSON },
	{ "troff", L_ROFF }, { "ts", L_TYPESCRIPT }, { "tsv", L_TSV }, { "tsx", L_TSX },
	{ "twig", L_TWIG }, { "typ", L_TYPST }, { "typescript", L_TYPESCRIPT },
	{ "typst", L_TYPST }, { "udiff", L_DIFF }, { "unity3d asset", L_UNITY3DASSET },
	{ "vala", L_VALA }, { "vb .net", L_VBNET }, { "vb 6", L_VB6 }, { "vb.net", L_VBNET },
	{ "vb6", L_VB6 }, { "vba", L_VBA }, { "vbnet", L_VBNET }, { "vbscript", L_VBSCRIPT },
	{ "verilog", L_VERILOG }, { "vhdl", L_VHDL }, { "vim", L_VIMSCRIPT },
	{ "vim script", L_VIMSCRIPT }, { "viml", L_VIMSCRIPT }, { "vimscript", L_VIMSCRIPT },
	{ "visual basic", L_VBNET }, { "visual basic .net", L_VBNET }, { "visual basic 6", L_VB6 },
	{ "visual basic 6.0", L_VB6 }, { "visual basic classic", L_VB6 },
	{ "visual basic for applications", L_VBA }, { "vue", L_VUE }, { "wasm", L_WEBASSEMBLY },
	{ "wast", L_WEBASSEMBLY }, { "webassembly", L_WEBASSEMBLY }, { "webidl", L_WEBIDL },
	{ "wgsl", L_WGSL }, { "wiki", L_WIKITEXT }, { "wikitext", L_WIKITEXT },
	{ "winbatch", L_BATCHFILE }, { "windows registry entries", L_WINREG },
	{ "wl", L_MATHEMATICA }, { "wolfram", L_MATHEMATICA }, { "wolfram lang", L_MATHEMATICA },
	{ "wolfram language", L_MATHEMATICA }, { "wsdl", L_XML }, { "xdc", L_TCL },
	{ "xhtml", L_HTML }, { "xml", L_XML }, { "xml property list", L_XMLPLIST },
	{ "xsd", L_XML }, { "xsl", L_XSLT }, { "xslt", L_XSLT }, { "yacc", L_YACC },
	{ "yaml", L_YAML }, { "yml", L_YAML }, { "zig", L_ZIG }, { "zsh", L_SHELL },
};

/*
 * File names that start a language whatever follows their first dot: "Dockerfile.dev",
 * "Kconfig.debug", ".env.local". Checked after the exact names (so ".env" itself and the
 * linguist-listed ".env.*" files agree) and before extensions (so "Dockerfile.ubuntu" does not
 * depend on ".ubuntu" being unknown). A short list, scanned in full.
 */
static const struct lang_key prefix_table[] = {
	{ ".env.", L_DOTENV }, { "Containerfile.", L_DOCKERFILE }, { "Dockerfile.", L_DOCKERFILE },
	{ "Jenkinsfile.", L_GROOVY }, { "Kconfig.", L_KCONFIG }, { "dockerfile.", L_DOCKERFILE },
};

static inline char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static inline bool ascii_is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

/*
 * Orders a NUL-terminated table key against a counted string (which may hold NUL bytes) the way
 * strcmp() orders two keys: bytewise, a proper prefix first.
 */
static int key_cmp(const char *key, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && key[i] != '\0'; i++)
		if (key[i] != s[i])
			return (unsigned char)key[i] - (unsigned char)s[i];
	if (i < n)
		return -1;
	return key[i] != '\0' ? 1 : 0;
}

static uint16_t table_find(const struct lang_key *t, size_t n_t, const char *s, size_t n)
{
	size_t lo = 0, hi = n_t;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(t[mid].key, s, n);

		if (c == 0)
			return t[mid].lang;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return LANG_UNKNOWN;
}

/* The last '/'-separated component of a path. */
static const char *base_name(const char *path, size_t path_len, size_t *base_len)
{
	const char *slash = path_len ? memrchr(path, '/', path_len) : NULL;
	size_t off = slash ? (size_t)(slash - path) + 1 : 0;

	*base_len = path_len - off;
	return path + off;
}

static uint16_t by_prefix(const char *base, size_t base_len)
{
	for (size_t i = 0; i < ARRAY_LEN(prefix_table); i++) {
		size_t n = strlen(prefix_table[i].key);

		if (base_len > n && memcmp(base, prefix_table[i].key, n) == 0)
			return prefix_table[i].lang;
	}
	return LANG_UNKNOWN;
}

/*
 * Linguist lowercases extensions, so ".C" is C there. GCC and Clang treat ".C" and ".H" as C++,
 * and C++ projects (ROOT macros, old Unix code) do use them, while C code spelling its
 * extension in capitals is mostly DOS-era code whose whole name is in capitals (MAIN.C). So an
 * uppercase ".C"/".H" after a name with a lowercase letter is C++, and otherwise C.
 */
static bool is_cplusplus_capital(const char *base, size_t dot, size_t base_len)
{
	if (base_len - dot != 2 || (base[dot + 1] != 'C' && base[dot + 1] != 'H'))
		return false;
	for (size_t i = 0; i < dot; i++)
		if (ascii_is_lower(base[i]))
			return true;
	return false;
}

static uint16_t by_extension(const char *base, size_t base_len)
{
	/*
	 * Only a suffix of at most LANG_EXT_MAX bytes can be a known extension, so the scan starts
	 * near the end: a name made of a thousand dots costs no more than "main.c".
	 */
	size_t from = base_len > LANG_EXT_MAX + 1 ? base_len - LANG_EXT_MAX - 1 : 0;
	char lower[LANG_EXT_MAX];

	for (size_t i = from; i + 1 < base_len; i++) {
		size_t n = base_len - i - 1;
		uint16_t id;

		if (base[i] != '.')
			continue;
		if (is_cplusplus_capital(base, i, base_len))
			return L_CPP;
		for (size_t k = 0; k < n; k++)
			lower[k] = ascii_lower(base[i + 1 + k]);
		if ((id = table_find(ext_table, ARRAY_LEN(ext_table), lower, n)) != LANG_UNKNOWN)
			return id;
	}
	return LANG_UNKNOWN;
}

uint16_t lang_detect(const char *path, size_t path_len)
{
	size_t base_len;
	const char *base;
	uint16_t id;

	if (path == NULL)
		return LANG_UNKNOWN;
	base = base_name(path, path_len, &base_len);
	if (base_len == 0)
		return LANG_UNKNOWN;
	if ((id = table_find(filename_table, ARRAY_LEN(filename_table), base, base_len)) != 0 ||
	    (id = by_prefix(base, base_len)) != 0)
		return id;
	return by_extension(base, base_len);
}

const char *lang_name(uint16_t id)
{
	return id < L_END ? lang_names[id] : "";
}

size_t lang_count(void)
{
	return L_END - 1;
}

/*
 * The language whose name or alias is nearest to `lower`. Among equally near ones, the one whose
 * length is closest wins ("rsut" is a swap away from "rust", a deletion away from "rst"), then the
 * first in alias order.
 */
static const char *closest_name(const char *lower, size_t len)
{
	size_t limit = editdist_limit(len), best = limit + 1, best_skew = SIZE_MAX;
	uint16_t best_id = LANG_UNKNOWN;

	if (limit == 0)
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(alias_table); i++) {
		const char *key = alias_table[i].key;
		size_t n = strlen(key), skew = n > len ? n - len : len - n;
		size_t d = editdist(lower, len, key, n, best < limit ? best : limit);

		if (d < best || (d == best && d <= limit && skew < best_skew)) {
			best = d;
			best_skew = skew;
			best_id = alias_table[i].lang;
		}
	}
	return best_id != LANG_UNKNOWN ? lang_names[best_id] : NULL;
}

uint16_t lang_find(const char *name, size_t len, const char **suggestion)
{
	char lower[LANG_NAME_MAX];
	uint16_t id;

	if (suggestion != NULL)
		*suggestion = NULL;
	if (name == NULL || len == 0 || len > LANG_NAME_MAX)
		return LANG_UNKNOWN;
	for (size_t i = 0; i < len; i++)
		lower[i] = ascii_lower(name[i]);
	if ((id = table_find(alias_table, ARRAY_LEN(alias_table), lower, len)) != LANG_UNKNOWN)
		return id;
	if (suggestion != NULL)
		*suggestion = closest_name(lower, len);
	return LANG_UNKNOWN;
}

/*
 * Path kinds. Rules come from linguist's vendor.yml, generated.rb and documentation.yml, reduced
 * to what a path shows, and applied to a directory at any depth (linguist anchors some at the
 * repository root; monorepos nest them). docs/languages.md lists them.
 */
enum {
	K_VENDORED = 1,
	K_GENERATED = 2,
	K_TEST = 4,
	K_DOC = 8,
};

struct kind_key {
	const char *key;
	uint8_t kind;
};

/*
 * dir_rules: directory names compared in lowercase, sorted bytewise. file_rules: whole file
 * names, exact case, sorted bytewise (tool-written lock files and autotools/wrapper scripts).
 */
static const struct kind_key dir_rules[] = {
	{ ".venv", K_VENDORED }, { ".yarn", K_VENDORED }, { "3rd-party", K_VENDORED },
	{ "3rd_party", K_VENDORED }, { "3rdparty", K_VENDORED }, { "__fixtures__", K_TEST },
	{ "__generated__", K_GENERATED }, { "__mocks__", K_TEST }, { "__pypackages__", K_VENDORED },
	{ "__test__", K_TEST }, { "__tests__", K_TEST }, { "androidtest", K_TEST },
	{ "bower_components", K_VENDORED }, { "demo", K_DOC }, { "demos", K_DOC },
	{ "dependencies", K_VENDORED }, { "deps", K_VENDORED }, { "dist", K_VENDORED },
	{ "doc", K_DOC }, { "docs", K_DOC }, { "documentation", K_DOC }, { "e2e", K_TEST },
	{ "example", K_DOC }, { "examples", K_DOC }, { "extern", K_VENDORED },
	{ "external", K_VENDORED }, { "fixtures", K_TEST }, { "generated", K_GENERATED },
	{ "godeps", K_VENDORED }, { "javadoc", K_DOC }, { "jspm_packages", K_VENDORED },
	{ "man", K_DOC }, { "node_modules", K_VENDORED }, { "sample", K_DOC }, { "samples", K_DOC },
	{ "site-packages", K_VENDORED }, { "spec", K_TEST }, { "specs", K_TEST },
	{ "test", K_TEST }, { "test-data", K_TEST }, { "test_data", K_TEST },
	{ "testdata", K_TEST }, { "tests", K_TEST }, { "third-party", K_VENDORED },
	{ "third_party", K_VENDORED }, { "thirdparty", K_VENDORED }, { "vendor", K_VENDORED },
	{ "vendors", K_VENDORED }, { "venv", K_VENDORED },
};

static const struct kind_key file_rules[] = {
	{ ".pnp.cjs", K_GENERATED }, { ".pnp.js", K_GENERATED }, { ".pnp.loader.mjs", K_GENERATED },
	{ "Cargo.lock", K_GENERATED }, { "Gemfile.lock", K_GENERATED },
	{ "Gopkg.lock", K_GENERATED }, { "MODULE.bazel.lock", K_GENERATED },
	{ "Package.resolved", K_GENERATED }, { "Pipfile.lock", K_GENERATED },
	{ "Podfile.lock", K_GENERATED }, { "aclocal.m4", K_VENDORED }, { "bun.lock", K_GENERATED },
	{ "bun.lockb", K_GENERATED }, { "composer.lock", K_GENERATED },
	{ "config.guess", K_VENDORED }, { "config.sub", K_VENDORED }, { "configure", K_VENDORED },
	{ "cpplint.py", K_VENDORED }, { "deno.lock", K_GENERATED }, { "depcomp", K_VENDORED },
	{ "erlang.mk", K_VENDORED }, { "flake.lock", K_GENERATED }, { "glide.lock", K_GENERATED },
	{ "go.sum", K_GENERATED }, { "go.work.sum", K_GENERATED },
	{ "gradle-wrapper.properties", K_VENDORED }, { "gradle.lockfile", K_GENERATED },
	{ "gradlew", K_VENDORED }, { "gradlew.bat", K_VENDORED }, { "install-sh", K_VENDORED },
	{ "libtool.m4", K_VENDORED }, { "ltmain.sh", K_VENDORED }, { "ltoptions.m4", K_VENDORED },
	{ "ltsugar.m4", K_VENDORED }, { "ltversion.m4", K_VENDORED },
	{ "lt~obsolete.m4", K_VENDORED }, { "maven-wrapper.properties", K_VENDORED },
	{ "mix.lock", K_GENERATED }, { "mvnw", K_VENDORED }, { "mvnw.cmd", K_VENDORED },
	{ "npm-shrinkwrap.json", K_GENERATED }, { "package-lock.json", K_GENERATED },
	{ "packages.lock.json", K_GENERATED }, { "pdm.lock", K_GENERATED },
	{ "pixi.lock", K_GENERATED }, { "pnpm-lock.yaml", K_GENERATED },
	{ "poetry.lock", K_GENERATED }, { "pubspec.lock", K_GENERATED }, { "uv.lock", K_GENERATED },
	{ "yarn.lock", K_GENERATED },
};

/* A literal with its length, so the scans below never call strlen(). */
struct word {
	const char *s;
	uint8_t len;
	uint8_t kind;
};

#define W(lit, kind) { lit, sizeof(lit) - 1, kind }

/*
 * Directory names matched in their exact case only, because another spelling is common in
 * ordinary source (a Kubernetes "pods" package, a "T" folder). A short list, scanned in full.
 */
static const struct word dir_rules_exact[] = {
	W("Carthage", K_VENDORED), W("Pods", K_VENDORED),
	W("t", K_TEST), /* Perl's and Git's test directory */
};

/* File-name endings, compared in lowercase. */
static const struct word suffix_rules[] = {
	W(".min.js", K_VENDORED), W("-min.js", K_VENDORED), W(".min.mjs", K_VENDORED),
	W(".min.css", K_VENDORED), W("-min.css", K_VENDORED), W(".pb.go", K_GENERATED),
	W(".pb.gw.go", K_GENERATED), W(".pb.c", K_GENERATED), W(".pb.cc", K_GENERATED),
	W(".pb.h", K_GENERATED), W(".pb.swift", K_GENERATED), W(".pb.dart", K_GENERATED),
	W(".pbenum.dart", K_GENERATED), W(".pbgrpc.dart", K_GENERATED),
	W(".pbjson.dart", K_GENERATED), W(".pbserver.dart", K_GENERATED), W("_pb2.py", K_GENERATED),
	W("_pb2.pyi", K_GENERATED), W("_pb2_grpc.py", K_GENERATED), W("_pb.js", K_GENERATED),
	W("_pb.ts", K_GENERATED), W("_pb.d.ts", K_GENERATED), W(".g.dart", K_GENERATED),
	W(".freezed.dart", K_GENERATED), W(".g.cs", K_GENERATED), W(".designer.cs", K_GENERATED),
	W(".js.map", K_GENERATED), W(".css.map", K_GENERATED),
};

/*
 * Infixes that mark generated code whatever the language ("api.generated.ts", "types_gen.go"),
 * compared in lowercase. Each starts with a separator, which is where the scan looks.
 */
static const struct word generated_markers[] = {
	W(".generated.", K_GENERATED), W("_generated.", K_GENERATED), W("-generated.", K_GENERATED),
	W(".gen.", K_GENERATED), W("_gen.", K_GENERATED),
};

/* Test file names by their stem (the name without its last extension), exact case. */
static const struct word test_stems[] = {
	W("conftest", K_TEST), W("setupTests", K_TEST), W("spec_helper", K_TEST), W("test", K_TEST),
	W("test_helper", K_TEST), W("tests", K_TEST),
};
static const struct word test_stem_suffixes[] = {
	W("_test", K_TEST), W("_tests", K_TEST), W(".test", K_TEST), W("-test", K_TEST),
	W("_spec", K_TEST), W(".spec", K_TEST), W("Test", K_TEST), W("Tests", K_TEST),
	W("Spec", K_TEST), W("_unittest", K_TEST), W("_SUITE", K_TEST),
};

/*
 * Documentation file names: NAME or NAME.anything in any case, and in capitals also NAME-* and
 * NAME_* ("LICENSE-MIT", "README_zh.md"; but "license_check.py" is code).
 */
static const struct word doc_names_any_case[] = {
	W("changelog", K_DOC), W("code_of_conduct", K_DOC), W("contributing", K_DOC),
	W("copying", K_DOC), W("licence", K_DOC), W("license", K_DOC), W("readme", K_DOC),
};
/* Only as spelled here, since "install.sh" or "history.py" are code. */
static const struct word doc_names_exact[] = {
	W("AUTHORS", K_DOC), W("CHANGELOG", K_DOC), W("CHANGES", K_DOC), W("CITATION", K_DOC),
	W("CITATIONS", K_DOC), W("CODE_OF_CONDUCT", K_DOC), W("CONTRIBUTING", K_DOC),
	W("CONTRIBUTORS", K_DOC), W("COPYING", K_DOC), W("COPYRIGHT", K_DOC), W("HISTORY", K_DOC),
	W("History", K_DOC), W("INSTALL", K_DOC), W("LICENCE", K_DOC), W("LICENSE", K_DOC),
	W("MAINTAINERS", K_DOC), W("NEWS", K_DOC), W("NOTICE", K_DOC), W("PATENTS", K_DOC),
	W("README", K_DOC), W("SECURITY", K_DOC), W("THANKS", K_DOC),
};

/* Whether s[0..n) equals the lowercase literal `lower`, ignoring ASCII case. */
static inline bool mem_ieq(const char *s, const char *lower, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(s[i]) != lower[i])
			return false;
	return true;
}

/*
 * These compare the first byte before calling memcmp(): almost every comparison fails there, and
 * lang_path_kind() makes about a hundred of them per file at indexing time.
 */
static inline bool word_eq(const char *s, size_t n, const struct word *w)
{
	return n == w->len && s[0] == w->s[0] && memcmp(s, w->s, n) == 0;
}

static inline bool ends_with(const char *s, size_t n, const struct word *w, bool is_icase)
{
	const char *tail = s + n - w->len;

	if (w->len > n)
		return false;
	if (is_icase)
		return mem_ieq(tail, w->s, w->len);
	return tail[0] == w->s[0] && memcmp(tail, w->s, w->len) == 0;
}

static inline bool starts_with(const char *s, size_t n, const struct word *w, bool is_icase)
{
	if (w->len > n)
		return false;
	if (is_icase)
		return mem_ieq(s, w->s, w->len);
	return s[0] == w->s[0] && memcmp(s, w->s, w->len) == 0;
}

static uint8_t kind_find(const struct kind_key *t, size_t n_t, const char *s, size_t n)
{
	size_t lo = 0, hi = n_t;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(t[mid].key, s, n);

		if (c == 0)
			return t[mid].kind;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The kinds named by one directory component. */
static uint8_t dir_kind(const char *name, size_t n)
{
	char lower[32];

	for (size_t i = 0; i < ARRAY_LEN(dir_rules_exact); i++)
		if (word_eq(name, n, &dir_rules_exact[i]))
			return dir_rules_exact[i].kind;
	if (n > sizeof(lower)) /* longer than any rule */
		return 0;
	for (size_t i = 0; i < n; i++)
		lower[i] = ascii_lower(name[i]);
	return kind_find(dir_rules, ARRAY_LEN(dir_rules), lower, n);
}

/* The union of the kinds of every directory in dir[0..n) (which ends before the file name). */
static uint8_t dirs_kind(const char *dir, size_t n)
{
	uint8_t kinds = 0;
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && dir[i] != '/')
			continue;
		if (i > start)
			kinds |= dir_kind(dir + start, i - start);
		start = i + 1;
	}
	return kinds;
}

static bool is_generated_name(const char *base, size_t n, size_t n_stem)
{
	static const struct word zz = W("zz_generated", 0), stem = W("generated", 0);

	if (starts_with(base, n, &zz, true))
		return true;
	if (n_stem == stem.len && mem_ieq(base, stem.s, n_stem))
		return true;
	for (size_t i = 0; i < n; i++) {
		if (base[i] != '.' && base[i] != '_' && base[i] != '-')
			continue;
		for (size_t k = 0; k < ARRAY_LEN(generated_markers); k++)
			if (starts_with(base + i, n - i, &generated_markers[k], true))
				return true;
	}
	return false;
}

/* "test_parser.py", and "TestParser.java" but not "Testament.java". */
static bool has_test_prefix(const char *stem, size_t n)
{
	return (n > 5 && memcmp(stem, "test_", 5) == 0) ||
	       (n > 4 && memcmp(stem, "Test", 4) == 0 && stem[4] >= 'A' && stem[4] <= 'Z');
}

static bool is_test_name(const char *stem, size_t n)
{
	for (size_t i = 0; i < ARRAY_LEN(test_stems); i++)
		if (word_eq(stem, n, &test_stems[i]))
			return true;
	if (has_test_prefix(stem, n))
		return true;
	for (size_t i = 0; i < ARRAY_LEN(test_stem_suffixes); i++) {
		const struct word *w = &test_stem_suffixes[i];

		/* Something must come before the suffix: "Test.java" alone is not "FooTest". */
		if (n > w->len && ends_with(stem, n, w, false))
			return true;
	}
	return false;
}

/* Whether `base` is the word alone or followed by one of the characters in `seps`. */
static bool is_doc_name(const char *base, size_t n, const struct word *w, bool is_icase,
			const char *seps)
{
	if (!starts_with(base, n, w, is_icase))
		return false;
	return w->len == n || (base[w->len] != '\0' && strchr(seps, base[w->len]) != NULL);
}

static bool is_documentation_name(const char *base, size_t n)
{
	for (size_t i = 0; i < ARRAY_LEN(doc_names_exact); i++)
		if (is_doc_name(base, n, &doc_names_exact[i], false, ".-_"))
			return true;
	for (size_t i = 0; i < ARRAY_LEN(doc_names_any_case); i++)
		if (is_doc_name(base, n, &doc_names_any_case[i], true, "."))
			return true;
	return false;
}

/* Bundled copies of jQuery and its plugins (linguist's jquery*.js rule). */
static bool is_jquery(const char *base, size_t n)
{
	static const struct word jquery = W("jquery", 0), js = W(".js", 0);

	return starts_with(base, n, &jquery, true) && ends_with(base, n, &js, true);
}

/* The kinds the file name alone shows. */
static uint8_t file_kind(const char *base, size_t n)
{
	const char *dot = n ? memrchr(base, '.', n) : NULL;
	size_t n_stem = dot != NULL && dot != base ? (size_t)(dot - base) : n;
	uint8_t kinds = kind_find(file_rules, ARRAY_LEN(file_rules), base, n);

	for (size_t i = 0; i < ARRAY_LEN(suffix_rules); i++)
		if (ends_with(base, n, &suffix_rules[i], true))
			kinds |= suffix_rules[i].kind;
	if (is_jquery(base, n))
		kinds |= K_VENDORED;
	if (is_generated_name(base, n, n_stem))
		kinds |= K_GENERATED;
	if (is_test_name(base, n_stem))
		kinds |= K_TEST;
	if (is_documentation_name(base, n))
		kinds |= K_DOC;
	return kinds;
}

enum lang_path_kind lang_path_kind(const char *path, size_t path_len)
{
	size_t base_len;
	const char *base;
	uint8_t dirs, file;

	if (path == NULL)
		return LANG_PATH_SOURCE;
	base = base_name(path, path_len, &base_len);
	dirs = dirs_kind(path, (size_t)(base - path));
	file = base_len ? file_kind(base, base_len) : 0;
	if ((dirs | file) & K_VENDORED)
		return LANG_PATH_VENDORED;
	if ((dirs | file) & K_GENERATED)
		return LANG_PATH_GENERATED;
	/* What the file name says beats the directory: tests/README.md is documentation. */
	if (file & K_TEST)
		return LANG_PATH_TEST;
	if (file & K_DOC)
		return LANG_PATH_DOCUMENTATION;
	if (dirs & K_TEST)
		return LANG_PATH_TEST;
	if (dirs & K_DOC)
		return LANG_PATH_DOCUMENTATION;
	return LANG_PATH_SOURCE;
}

/*
 * Table checks. The key is the first member of both key structs, so one walker reads both
 * kinds of table through a byte stride.
 */
static const char *key_at(const void *table, size_t stride, size_t i)
{
	return *(const char *const *)(const void *)((const char *)table + i * stride);
}

static bool has_upper(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return true;
	return false;
}

static int check_keys(const char *what, const void *table, size_t n, size_t stride,
		      size_t max_len, bool is_lower)
{
	for (size_t i = 0; i < n; i++) {
		const char *key = key_at(table, stride, i);
		size_t len = strlen(key);

		if (len == 0 || len > max_len || (is_lower && has_upper(key))) {
			error_set("%s: bad key \"%s\"", what, key);
			return TRAWL_ECORRUPT;
		}
		if (i > 0 && strcmp(key_at(table, stride, i - 1), key) >= 0) {
			error_set("%s: \"%s\" is out of order or repeated", what, key);
			return TRAWL_ECORRUPT;
		}
	}
	return 0;
}

static int check_ids(const char *what, const struct lang_key *t, size_t n, bool *is_reachable)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].lang == LANG_UNKNOWN || t[i].lang >= L_END) {
			error_set("%s: \"%s\" has a bad language id", what, t[i].key);
			return TRAWL_ECORRUPT;
		}
		if (is_reachable != NULL)
			is_reachable[t[i].lang] = true;
	}
	return 0;
}

#define CHECK_KEYS(t, max_len, is_lower) \
	check_keys(#t, t, ARRAY_LEN(t), sizeof((t)[0]), max_len, is_lower)

int lang_check_tables(void)
{
	bool is_reachable[L_END] = { false };
	int err;

	if ((err = CHECK_KEYS(ext_table, LANG_EXT_MAX, true)) < 0 ||
	    (err = CHECK_KEYS(filename_table, 255, false)) < 0 ||
	    (err = CHECK_KEYS(alias_table, LANG_NAME_MAX, true)) < 0 ||
	    (err = CHECK_KEYS(dir_rules, 32, true)) < 0 ||
	    (err = CHECK_KEYS(file_rules, 255, false)) < 0 ||
	    (err = check_ids("ext_table", ext_table, ARRAY_LEN(ext_table), is_reachable)) < 0 ||
	    (err = check_ids("filename_table", filename_table, ARRAY_LEN(filename_table),
			     is_reachable)) < 0 ||
	    (err = check_ids("prefix_table", prefix_table, ARRAY_LEN(prefix_table),
			     is_reachable)) < 0 ||
	    (err = check_ids("alias_table", alias_table, ARRAY_LEN(alias_table), NULL)) < 0)
		return err;
	for (uint16_t id = 1; id < L_END; id++) {
		const char *name = lang_names[id];

		if (name[0] == '\0' || strlen(name) > LANG_NAME_MAX ||
		    lang_find(name, strlen(name), NULL) != id) {
			error_set("language %u (\"%s\") is not found by its name", (unsigned)id,
				  name);
			return TRAWL_ECORRUPT;
		}
		if (!is_reachable[id]) {
			error_set("language \"%s\" has no extension or file name", name);
			return TRAWL_ECORRUPT;
		}
	}
	return 0;
}
