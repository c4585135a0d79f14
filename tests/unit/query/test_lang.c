/*
 * Unit tests for query/lang: path -> language detection (including linguist's ambiguous
 * extensions and the choices we made for them), lang: names and aliases, typo suggestions, path
 * kinds for ranking, and the stability of language ids, which index shards store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "query/lang.h"
#include "util/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct detect_case {
	const char *path;
	const char *lang; /* "" for LANG_UNKNOWN */
};

static void check_detect(const struct detect_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = lang_name(lang_detect(cases[i].path, strlen(cases[i].path)));

		if (strcmp(got, cases[i].lang) != 0)
			fail_msg("lang_detect(\"%s\") = \"%s\", want \"%s\"", cases[i].path, got,
				 cases[i].lang);
	}
}

static void lang_tables_are_consistent(void **state)
{
	(void)state;
	if (lang_check_tables() != 0)
		fail_msg("lang_check_tables: %s", error_last());
}

/*
 * Ids are stored in shards: this is the id order, and it may only grow at the end. A failure
 * here means a language was inserted, removed or moved; append new ones at the end instead.
 */
static const char *const stable_names[] = {
	"ABAP", "ANTLR", "ActionScript", "Ada", "Agda", "ApacheConf", "Apex", "AppleScript",
	"AsciiDoc", "Assembly", "Astro", "AutoHotkey", "AutoIt", "Awk", "Batchfile", "BibTeX",
	"Bicep", "BitBake", "Blade", "Brainfuck", "Browserslist", "C", "C#", "C++", "CMake",
	"COBOL", "CODEOWNERS", "CSS", "CSV", "CUE", "Cap'n Proto", "Clojure", "CoffeeScript",
	"ColdFusion", "Common Lisp", "Crystal", "Cuda", "Cython", "D", "Dart", "Dhall", "Diff",
	"Dockerfile", "Dotenv", "EJS", "EditorConfig", "Elixir", "Elm", "Emacs Lisp", "Erlang",
	"F#", "Fennel", "Fortran", "Fortran Free Form", "GDScript", "GLSL", "GN",
	"Game Maker Language", "Gemfile.lock", "Gettext Catalog", "Gherkin", "Git Attributes",
	"Git Config", "Gleam", "Go", "Go Checksums", "Go Module", "Go Workspace", "Gradle",
	"Gradle Kotlin DSL", "GraphQL", "Graphviz (DOT)", "Groovy", "HCL", "HLSL", "HTML",
	"HTML+EEX", "HTML+ERB", "HTML+PHP", "HTML+Razor", "Hack", "Haml", "Handlebars", "Haskell",
	"Haxe", "INI", "Idris", "Ignore List", "Inno Setup", "Isabelle", "JSON",
	"JSON with Comments", "JSON5", "JSONLD", "Java", "Java Properties", "Java Server Pages",
	"JavaScript", "Jinja", "Jsonnet", "Julia", "Jupyter Notebook", "Just", "Kconfig", "Kotlin",
	"LLVM", "Lean", "Less", "Lex", "Linker Script", "Liquid", "Literate Haskell", "LiveScript",
	"Lua", "Luau", "M4", "M4Sugar", "MATLAB", "MDX", "MLIR", "Makefile", "Markdown",
	"Mathematica", "Mermaid", "Meson", "Microsoft Visual Studio Solution", "Mojo", "Mustache",
	"NPM Config", "NSIS", "Nextflow", "Nginx", "Nim", "Ninja", "Nix", "Nunjucks", "Nushell",
	"OCaml", "Objective-C", "Objective-C++", "Odin", "Open Policy Agent", "OpenCL", "OpenSCAD",
	"Org", "PHP", "PLSQL", "PLpgSQL", "Pascal", "Perl", "Pip Requirements", "PlantUML", "Pod",
	"PostCSS", "PostScript", "PowerShell", "Prisma", "Processing", "Procfile", "Prolog",
	"Protocol Buffer", "Protocol Buffer Text Format", "Pug", "Puppet", "PureScript", "Python",
	"QML", "QMake", "R", "RDoc", "RMarkdown", "RPM Spec", "Racket", "Raku", "ReScript",
	"Reason", "RobotFramework", "Rocq Prover", "Roff", "Ruby", "Rust", "SAS", "SCSS", "SQL",
	"SSH Config", "SVG", "SWIG", "SaltStack", "Sass", "Scala", "Scheme", "ShaderLab", "Shell",
	"ShellSession", "Smali", "Smalltalk", "Smarty", "Snakemake", "Solidity", "Standard ML",
	"Starlark", "Stata", "Stylus", "SuperCollider", "Svelte", "Swift", "SystemVerilog", "TLA",
	"TOML", "TSV", "TSX", "Tcl", "Tcsh", "TeX", "Terraform Template", "Texinfo", "Text",
	"Textile", "Thrift", "Twig", "TypeScript", "Typst", "Unity3D Asset", "VBA", "VBScript",
	"VHDL", "Vala", "Verilog", "Vim Script", "Visual Basic .NET", "Visual Basic 6.0", "Vue",
	"WGSL", "WebAssembly", "WebIDL", "Wikitext", "Windows Registry Entries", "XML",
	"XML Property List", "XSLT", "YAML", "Yacc", "Zig", "crontab", "desktop", "edn", "fish",
	"jq", "reStructuredText", "robots.txt", "sed",
};

static void lang_ids_are_stable(void **state)
{
	(void)state;
	assert_true(lang_count() >= ARRAY_LEN(stable_names));
	assert_true(lang_count() >= 100);
	for (size_t i = 0; i < ARRAY_LEN(stable_names); i++)
		if (strcmp(lang_name((uint16_t)(i + 1)), stable_names[i]) != 0)
			fail_msg("id %zu is \"%s\", was \"%s\"", i + 1,
				 lang_name((uint16_t)(i + 1)), stable_names[i]);
	assert_string_equal(lang_name(LANG_UNKNOWN), "");
	assert_string_equal(lang_name((uint16_t)(lang_count() + 1)), "");
	assert_string_equal(lang_name(UINT16_MAX), "");
}

static void lang_names_round_trip(void **state)
{
	char upper[LANG_NAME_MAX + 1], lower[LANG_NAME_MAX + 1];

	(void)state;
	for (uint16_t id = 1; id <= lang_count(); id++) {
		const char *name = lang_name(id);
		size_t n = strlen(name);

		assert_true(n > 0 && n <= LANG_NAME_MAX);
		assert_int_equal(lang_find(name, n, NULL), id);
		for (size_t i = 0; i <= n; i++) {
			char c = name[i];

			upper[i] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
			lower[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
		}
		assert_int_equal(lang_find(upper, n, NULL), id);
		assert_int_equal(lang_find(lower, n, NULL), id);
		/* Names are unique. */
		for (uint16_t other = 1; other < id; other++)
			assert_string_not_equal(lang_name(other), name);
	}
}

static const struct detect_case common_cases[] = {
	/* C family; ".h" is C, see docs/languages.md */
	{ "main.c", "C" }, { "src/util/error.h", "C" }, { "include/config.h.in", "C" },
	{ "lib/foo.cpp", "C++" }, { "a/b/c.cc", "C++" }, { "x.cxx", "C++" }, { "x.hpp", "C++" },
	{ "x.hh", "C++" }, { "x.ipp", "C++" }, { "x.c++", "C++" }, { "sketch.ino", "C++" },
	{ "kernel.cu", "Cuda" }, { "x.cuh", "Cuda" }, { "view.m", "Objective-C" },
	{ "view.mm", "Objective-C++" }, { "kern.cl", "OpenCL" },
	/* JVM and .NET */
	{ "App.java", "Java" }, { "Main.kt", "Kotlin" }, { "script.kts", "Kotlin" },
	{ "Foo.scala", "Scala" }, { "build.sbt", "Scala" }, { "x.groovy", "Groovy" },
	{ "build.gradle", "Gradle" }, { "settings.gradle.kts", "Gradle Kotlin DSL" },
	{ "Program.cs", "C#" }, { "script.csx", "C#" }, { "Lib.fs", "F#" },
	{ "Mod.vb", "Visual Basic .NET" }, { "Module1.bas", "Visual Basic 6.0" },
	{ "Form.frm", "Visual Basic 6.0" }, { "x.vbs", "VBScript" }, { "x.vba", "VBA" },
	/* Go, Rust, Swift, Zig... */
	{ "cmd/main.go", "Go" }, { "src/lib.rs", "Rust" }, { "Foo.swift", "Swift" },
	{ "x.zig", "Zig" }, { "build.zig.zon", "Zig" }, { "x.odin", "Odin" }, { "x.nim", "Nim" },
	{ "x.cr", "Crystal" }, { "x.dart", "Dart" }, { "x.gleam", "Gleam" }, { "x.mojo", "Mojo" },
	{ "x.d", "D" }, { "x.v", "Verilog" }, { "x.sv", "SystemVerilog" }, { "x.vhd", "VHDL" },
	/* Python */
	{ "setup.py", "Python" }, { "types.pyi", "Python" }, { "mod.pyx", "Cython" },
	{ "nb.ipynb", "Jupyter Notebook" }, { "Snakefile", "Snakemake" },
	/* JavaScript and friends */
	{ "index.js", "JavaScript" }, { "app.mjs", "JavaScript" }, { "app.cjs", "JavaScript" },
	{ "Comp.jsx", "JavaScript" }, { "index.ts", "TypeScript" }, { "mod.mts", "TypeScript" },
	{ "App.tsx", "TSX" }, { "App.vue", "Vue" }, { "Page.svelte", "Svelte" },
	{ "page.astro", "Astro" }, { "x.coffee", "CoffeeScript" },
	/* Web */
	{ "index.html", "HTML" }, { "page.htm", "HTML" }, { "style.css", "CSS" },
	{ "style.scss", "SCSS" }, { "style.sass", "Sass" }, { "style.less", "Less" },
	{ "style.styl", "Stylus" }, { "x.pcss", "PostCSS" }, { "view.erb", "HTML+ERB" },
	{ "index.php", "PHP" }, { "page.phtml", "HTML+PHP" }, { "View.cshtml", "HTML+Razor" },
	{ "C.razor", "HTML+Razor" }, { "tpl.hbs", "Handlebars" }, { "x.mustache", "Mustache" },
	{ "t.jinja2", "Jinja" }, { "t.j2", "Jinja" }, { "t.twig", "Twig" },
	{ "t.liquid", "Liquid" }, { "t.njk", "Nunjucks" }, { "t.ejs", "EJS" }, { "t.haml", "Haml" },
	{ "t.pug", "Pug" }, { "t.tpl", "Smarty" }, { "live.heex", "HTML+EEX" },
	{ "img.svg", "SVG" }, { "x.jsp", "Java Server Pages" }, { "x.cfm", "ColdFusion" },
	/* Ruby, Perl, PHP, Lua... */
	{ "app.rb", "Ruby" }, { "x.gemspec", "Ruby" }, { "config.ru", "Ruby" },
	{ "x.rake", "Ruby" }, { "x.pl", "Perl" }, { "lib/Foo.pm", "Perl" }, { "t/basic.t", "Perl" },
	{ "x.raku", "Raku" }, { "x.lua", "Lua" }, { "x.luau", "Luau" }, { "x.tcl", "Tcl" },
	{ "x.awk", "Awk" }, { "x.sed", "sed" }, { "x.jq", "jq" }, { "x.r", "R" },
	{ "x.jl", "Julia" },
	/* Shells */
	{ "run.sh", "Shell" }, { "x.bash", "Shell" }, { "x.zsh", "Shell" }, { "x.ksh", "Shell" },
	{ "x.bats", "Shell" }, { "x.fish", "fish" }, { "x.csh", "Tcsh" }, { "x.ps1", "PowerShell" },
	{ "x.psm1", "PowerShell" }, { "x.bat", "Batchfile" }, { "x.cmd", "Batchfile" },
	{ "x.nu", "Nushell" }, { "x.sh-session", "ShellSession" },
	/* Functional and others */
	{ "x.hs", "Haskell" }, { "x.lhs", "Literate Haskell" }, { "x.elm", "Elm" },
	{ "x.purs", "PureScript" }, { "x.ml", "OCaml" }, { "x.mli", "OCaml" },
	{ "x.sml", "Standard ML" }, { "x.clj", "Clojure" }, { "x.cljs", "Clojure" },
	{ "x.edn", "edn" }, { "x.lisp", "Common Lisp" }, { "x.el", "Emacs Lisp" },
	{ "x.scm", "Scheme" }, { "x.rkt", "Racket" }, { "x.ex", "Elixir" }, { "x.exs", "Elixir" },
	{ "x.erl", "Erlang" }, { "x.hrl", "Erlang" }, { "x.re", "Reason" }, { "x.res", "ReScript" },
	/* Data and configuration */
	{ "package.json", "JSON" }, { "events.jsonl", "JSON" },
	{ "settings.jsonc", "JSON with Comments" }, { "data.json5", "JSON5" },
	{ "ctx.jsonld", "JSONLD" }, { "config.yml", "YAML" }, { "x.yaml", "YAML" },
	{ "pyproject.toml", "TOML" }, { "x.ini", "INI" }, { "setup.cfg", "INI" },
	{ "x.properties", "Java Properties" }, { "x.xml", "XML" }, { "pom.xml", "XML" },
	{ "App.csproj", "XML" }, { "x.xaml", "XML" }, { "Info.plist", "XML Property List" },
	{ "x.xsl", "XSLT" }, { "x.csv", "CSV" }, { "x.tsv", "TSV" }, { "x.sql", "SQL" },
	{ "x.pgsql", "PLpgSQL" }, { "x.proto", "Protocol Buffer" },
	{ "x.textproto", "Protocol Buffer Text Format" }, { "x.thrift", "Thrift" },
	{ "x.graphql", "GraphQL" }, { "x.gql", "GraphQL" }, { "x.prisma", "Prisma" },
	{ "x.diff", "Diff" }, { "x.patch", "Diff" }, { "x.po", "Gettext Catalog" },
	{ "x.desktop", "desktop" }, { "x.tf", "HCL" }, { "vars.tfvars", "HCL" }, { "x.hcl", "HCL" },
	{ "flake.nix", "Nix" }, { "x.cue", "CUE" }, { "x.jsonnet", "Jsonnet" },
	{ "x.dhall", "Dhall" }, { "x.rego", "Open Policy Agent" }, { "x.bicep", "Bicep" },
	{ "x.sls", "SaltStack" }, { "x.pp", "Puppet" },
	{ "x.sln", "Microsoft Visual Studio Solution" }, { "x.reg", "Windows Registry Entries" },
	{ "x.meta", "Unity3D Asset" },
	/* Prose */
	{ "README.md", "Markdown" }, { "x.markdown", "Markdown" }, { "x.mdx", "MDX" },
	{ "x.rst", "reStructuredText" }, { "x.adoc", "AsciiDoc" }, { "x.org", "Org" },
	{ "x.tex", "TeX" }, { "x.sty", "TeX" }, { "x.bib", "BibTeX" }, { "notes.txt", "Text" },
	{ "ls.1", "Roff" }, { "x.man", "Roff" }, { "x.texi", "Texinfo" }, { "x.pod", "Pod" },
	{ "x.rmd", "RMarkdown" }, { "x.qmd", "RMarkdown" }, { "x.textile", "Textile" },
	/* Shaders, hardware, low level */
	{ "x.glsl", "GLSL" }, { "x.frag", "GLSL" }, { "x.vert", "GLSL" }, { "x.hlsl", "HLSL" },
	{ "x.wgsl", "WGSL" }, { "x.shader", "ShaderLab" }, { "x.ll", "LLVM" }, { "x.mlir", "MLIR" },
	{ "x.asm", "Assembly" }, { "x.s", "Assembly" }, { "x.S", "Assembly" },
	{ "x.wat", "WebAssembly" }, { "link.ld", "Linker Script" }, { "x.i", "SWIG" },
	{ "x.sol", "Solidity" },
	/* Grammars and the rest */
	{ "x.y", "Yacc" }, { "x.yy", "Yacc" }, { "x.l", "Lex" }, { "x.g4", "ANTLR" },
	{ "x.feature", "Gherkin" }, { "x.robot", "RobotFramework" }, { "x.puml", "PlantUML" },
	{ "x.mmd", "Mermaid" }, { "x.dot", "Graphviz (DOT)" }, { "x.vim", "Vim Script" },
	{ "x.ahk", "AutoHotkey" }, { "x.applescript", "AppleScript" }, { "x.abap", "ABAP" },
	{ "x.cob", "COBOL" }, { "x.f90", "Fortran Free Form" }, { "x.f", "Fortran" },
	{ "x.adb", "Ada" }, { "x.hx", "Haxe" }, { "x.vala", "Vala" }, { "x.pde", "Processing" },
	{ "x.as", "ActionScript" }, { "x.gd", "GDScript" }, { "x.gml", "Game Maker Language" },
	{ "x.scad", "OpenSCAD" }, { "x.qml", "QML" }, { "x.typ", "Typst" }, { "x.do", "Stata" },
	{ "x.sas", "SAS" }, { "x.nf", "Nextflow" }, { "x.smali", "Smali" },
	{ "x.iss", "Inno Setup" }, { "x.nsi", "NSIS" }, { "x.lean", "Lean" },
	{ "x.thy", "Isabelle" }, { "x.tla", "TLA" }, { "x.webidl", "WebIDL" },
	{ "x.tftpl", "Terraform Template" },
};

static void lang_detect_knows_common_extensions(void **state)
{
	(void)state;
	check_detect(common_cases, ARRAY_LEN(common_cases));
}

static const struct detect_case file_name_cases[] = {
	{ "Makefile", "Makefile" }, { "GNUmakefile", "Makefile" }, { "makefile", "Makefile" },
	{ "scripts/rules.mk", "Makefile" }, { "Makefile.am", "Makefile" },
	{ "Makefile.in", "Makefile" }, { "Kbuild", "Makefile" }, { "x.mak", "Makefile" },
	{ "Makefile.PL", "Perl" }, { "Makefile.toml", "TOML" }, /* cargo-make, not make */
	{ "CMakeLists.txt", "CMake" }, { "src/CMakeLists.txt", "CMake" }, { "x.cmake", "CMake" },
	{ "config.cmake.in", "CMake" }, { "Dockerfile", "Dockerfile" },
	{ "Dockerfile.dev", "Dockerfile" }, { "build/Dockerfile.ubuntu22", "Dockerfile" },
	{ "web.dockerfile", "Dockerfile" }, { "Containerfile", "Dockerfile" },
	{ "dockerfile", "Dockerfile" }, { "Kconfig", "Kconfig" },
	{ "drivers/net/Kconfig", "Kconfig" }, { "arch/x86/Kconfig.debug", "Kconfig" },
	{ ".bashrc", "Shell" }, { "home/.zshrc", "Shell" }, { ".profile", "Shell" },
	{ "PKGBUILD", "Shell" }, { "gradlew", "Shell" }, { ".envrc", "Shell" },
	{ "go.mod", "Go Module" }, { "go.sum", "Go Checksums" }, { "go.work", "Go Workspace" },
	{ "Cargo.toml", "TOML" }, { "Cargo.lock", "TOML" }, { "Pipfile", "TOML" },
	{ "poetry.lock", "TOML" }, { "Rakefile", "Ruby" }, { "Gemfile", "Ruby" },
	{ "Vagrantfile", "Ruby" }, { "Podfile", "Ruby" }, { "Gemfile.lock", "Gemfile.lock" },
	{ "BUILD", "Starlark" }, { "BUILD.bazel", "Starlark" }, { "WORKSPACE", "Starlark" },
	{ "MODULE.bazel", "Starlark" }, { "defs.bzl", "Starlark" }, { "Tiltfile", "Starlark" },
	{ "build", "" }, /* a lowercase "build" is usually a shell script */
	{ "Jenkinsfile", "Groovy" }, { "ci/Jenkinsfile.release", "Groovy" },
	{ "meson.build", "Meson" }, { "build.ninja", "Ninja" }, { "BUILD.gn", "GN" },
	{ "x.gni", "GN" }, { "SConstruct", "Python" }, { "requirements.txt", "Pip Requirements" },
	{ "docs/requirements.txt", "Pip Requirements" }, { "Justfile", "Just" },
	{ "justfile", "Just" }, { "Procfile", "Procfile" }, { "configure.ac", "M4Sugar" },
	{ "x.m4", "M4" }, { "rebar.config", "Erlang" }, { "mix.lock", "Elixir" },
	{ "package-lock.json", "JSON" }, { "composer.lock", "JSON" }, { "yarn.lock", "YAML" },
	{ "tsconfig.json", "JSON with Comments" }, { ".eslintrc.json", "JSON with Comments" },
	{ ".babelrc", "JSON with Comments" }, { ".clang-format", "YAML" },
	{ ".travis.yml", "YAML" }, { ".editorconfig", "EditorConfig" },
	{ ".gitignore", "Ignore List" }, { ".dockerignore", "Ignore List" },
	{ ".gitattributes", "Git Attributes" }, { ".gitmodules", "Git Config" },
	{ "CODEOWNERS", "CODEOWNERS" }, { ".env", "Dotenv" }, { ".env.production", "Dotenv" },
	{ ".env.local.backup", "Dotenv" }, { ".npmrc", "NPM Config" }, { "nginx.conf", "Nginx" },
	{ ".htaccess", "ApacheConf" }, { "crontab", "crontab" }, { "robots.txt", "robots.txt" },
	{ "ssh_config", "SSH Config" }, { ".vimrc", "Vim Script" }, { ".emacs", "Emacs Lisp" },
	{ ".luacheckrc", "Lua" }, { ".Rprofile", "R" }, { ".irbrc", "Ruby" }, { "LICENSE", "Text" },
	{ "COPYING", "Text" },
	{ "README", "" }, /* linguist does not call a bare README Text either */
};

static void lang_detect_knows_special_file_names(void **state)
{
	(void)state;
	check_detect(file_name_cases, ARRAY_LEN(file_name_cases));
}

/* One language per extension where linguist lists several: docs/languages.md. */
static const struct detect_case ambiguous_cases[] = {
	{ "x.h", "C" }, { "x.m", "Objective-C" }, { "x.matlab", "MATLAB" },
	{ "x.wl", "Mathematica" }, { "x.pl", "Perl" }, { "x.prolog", "Prolog" }, { "x.pm", "Perl" },
	{ "x.t", "Perl" }, { "x.v", "Verilog" }, { "x.coq", "Rocq Prover" },
	{ "x.ts", "TypeScript" }, { "x.inc", "PHP" }, { "x.cls", "TeX" }, { "x.pro", "QMake" },
	{ "x.md", "Markdown" }, { "x.fs", "F#" }, { "x.d", "D" }, { "x.rs", "Rust" },
	{ "x.cs", "C#" }, { "x.sql", "SQL" }, { "x.l", "Lex" }, { "x.cl", "OpenCL" },
	{ "x.bb", "BitBake" }, { "x.sc", "Scala" }, { "x.gs", "JavaScript" },
	{ "x.es", "JavaScript" }, { "x.spec", "RPM Spec" }, { "x.trigger", "Apex" },
	{ "x.st", "Smalltalk" }, { "x.ml", "OCaml" }, { "x.pp", "Puppet" },
	{ "x.bas", "Visual Basic 6.0" }, { "x.yy", "Yacc" }, { "x.i", "SWIG" },
	{ "x.s", "Assembly" }, { "x.mm", "Objective-C++" }, { "x.fx", "HLSL" },
	{ "x.vhost", "ApacheConf" }, { "x.properties", "Java Properties" }, { "x.cgi", "Perl" },
	{ "x.ex", "Elixir" }, { "x.json", "JSON" }, { "x.yml", "YAML" }, { "x.html", "HTML" },
	{ "x.ls", "LiveScript" },
};

static void lang_detect_resolves_ambiguity_deterministically(void **state)
{
	(void)state;
	check_detect(ambiguous_cases, ARRAY_LEN(ambiguous_cases));
}

static const struct detect_case shape_cases[] = {
	/* Directories and odd paths: only the last component counts. */
	{ "a/b/c/main.go", "Go" }, { "/abs/path/x.py", "Python" }, { "./rel/x.rb", "Ruby" },
	{ "weird.dir.c/file", "" }, { "src.c/README", "" }, { "dir/", "" }, { "", "" },
	{ ".config/x.toml", "TOML" }, { "a//b.c", "C" },
	/* Case: extensions ignore it (as in linguist); file names do not. */
	{ "x.JS", "JavaScript" }, { "X.PY", "Python" }, { "Main.JAVA", "Java" },
	{ "x.Md", "Markdown" }, { "FOO.CPP", "C++" }, { "IMG.SVG", "SVG" }, { "x.JSON", "JSON" },
	{ "X.R", "R" }, { "MAKEFILE", "" }, { "CMAKELISTS.TXT", "Text" },
	/* ".C" and ".H": C++ after a name with lowercase letters, C in a DOS-style name. */
	{ "analysis.C", "C++" }, { "Macro.H", "C++" }, { "MAIN.C", "C" }, { "DEFS.H", "C" },
	{ "x.c", "C" },
	/* Several dots: the longest known suffix wins. */
	{ "foo.tar.gz", "" }, { "jquery.min.js", "JavaScript" },
	{ "dist/app.bundle.min.js", "JavaScript" }, { "foo.test.ts", "TypeScript" },
	{ "foo.spec.tsx", "TSX" }, { "foo.d.ts", "TypeScript" }, { "x.module.css", "CSS" },
	{ "page.blade.php", "Blade" }, { "x.h.in", "C" }, { "x.sh.in", "Shell" },
	{ "x.html.eex", "HTML+EEX" }, { "index.html.erb", "HTML+ERB" }, { "x.app.src", "Erlang" },
	{ "state.tfstate.backup", "JSON" }, { "x.rst.txt", "reStructuredText" },
	{ "a.b.c.d.e.f", "Fortran" }, { "a.b.c.d.e.qq", "" }, { "v1.2.3.go", "Go" },
	/* Dotfiles, no extension, trailing dots. */
	{ ".hidden", "" }, { "noext", "" }, { "x.", "" }, { ".", "" }, { "..", "" }, { "...", "" },
	{ "x.unknownext", "" }, { "image.png", "" }, { "x.averyveryveryveryverylongextension", "" },
};

static void lang_detect_handles_path_shapes(void **state)
{
	(void)state;
	check_detect(shape_cases, ARRAY_LEN(shape_cases));
}

static void lang_detect_reads_only_its_length(void **state)
{
	char dots[4096];

	(void)state;
	/* The length, not a NUL, ends the path. */
	assert_string_equal(lang_name(lang_detect("main.go.bak", 7)), "Go");
	assert_string_equal(lang_name(lang_detect("x.c\0.py", 7)), "Python");
	assert_int_equal(lang_detect("a\0.c", 4), lang_find("C", 1, NULL));
	assert_int_equal(lang_detect(NULL, 0), LANG_UNKNOWN);
	assert_int_equal(lang_detect("x.c", 0), LANG_UNKNOWN);
	/* A name of thousands of dots is bounded work and still finds its extension. */
	memset(dots, '.', sizeof(dots));
	assert_int_equal(lang_detect(dots, sizeof(dots)), LANG_UNKNOWN);
	memcpy(dots + sizeof(dots) - 3, ".rs", 3);
	assert_string_equal(lang_name(lang_detect(dots, sizeof(dots))), "Rust");
	/* Bytes that are not ASCII letters are compared as they are. */
	assert_int_equal(lang_detect("x.\xc3\xa7", 4), LANG_UNKNOWN);
	assert_int_equal(lang_detect("x.\xff\xfe", 4), LANG_UNKNOWN);
}

struct find_case {
	const char *input;
	const char *lang;
};

static const struct find_case find_cases[] = {
	{ "cpp", "C++" }, { "c++", "C++" }, { "C++", "C++" }, { "golang", "Go" }, { "GO", "Go" },
	{ "go", "Go" }, { "js", "JavaScript" }, { "JavaScript", "JavaScript" },
	{ "node", "JavaScript" }, { "jsx", "JavaScript" }, { "ts", "TypeScript" },
	{ "typescript", "TypeScript" }, { "tsx", "TSX" }, { "py", "Python" },
	{ "python3", "Python" }, { "PYTHON", "Python" }, { "sh", "Shell" }, { "bash", "Shell" },
	{ "zsh", "Shell" }, { "shell", "Shell" }, { "yml", "YAML" }, { "yaml", "YAML" },
	{ "md", "Markdown" }, { "markdown", "Markdown" }, { "csharp", "C#" }, { "c#", "C#" },
	{ "C#", "C#" }, { "c", "C" }, { "objc", "Objective-C" }, { "objective-c", "Objective-C" },
	{ "OBJECTIVE-C", "Objective-C" }, { "obj-c++", "Objective-C++" }, { "rb", "Ruby" },
	{ "ruby", "Ruby" }, { "rs", "Rust" }, { "rust", "Rust" }, { "kt", "Kotlin" },
	{ "hs", "Haskell" }, { "tf", "HCL" }, { "terraform", "HCL" }, { "bazel", "Starlark" },
	{ "bzl", "Starlark" }, { "make", "Makefile" }, { "makefile", "Makefile" },
	{ "dockerfile", "Dockerfile" }, { "docker", "Dockerfile" }, { "vim", "Vim Script" },
	{ "vimscript", "Vim Script" }, { "elisp", "Emacs Lisp" }, { "latex", "TeX" },
	{ "tex", "TeX" }, { "fsharp", "F#" }, { "f#", "F#" }, { "vb.net", "Visual Basic .NET" },
	{ "Visual Basic .NET", "Visual Basic .NET" }, { "posh", "PowerShell" },
	{ "pwsh", "PowerShell" }, { "batch", "Batchfile" }, { "proto", "Protocol Buffer" },
	{ "protobuf", "Protocol Buffer" }, { "coq", "Rocq Prover" }, { "perl6", "Raku" },
	{ "rst", "reStructuredText" }, { "ipynb", "Jupyter Notebook" },
	{ "jsonc", "JSON with Comments" }, { "gitignore", "Ignore List" },
	{ "go.mod", "Go Module" }, { "go mod", "Go Module" }, { "ocaml", "OCaml" },
	{ "graphviz (dot)", "Graphviz (DOT)" }, { "plain text", "Text" }, { "text", "Text" },
	{ "kconfig", "Kconfig" }, { "cmake", "CMake" }, { "html", "HTML" }, { "css", "CSS" },
	{ "scss", "SCSS" }, { "sql", "SQL" }, { "java", "Java" }, { "swift", "Swift" },
	{ "php", "PHP" }, { "perl", "Perl" }, { "lua", "Lua" }, { "r", "R" },
	{ "octave", "MATLAB" }, { "delphi", "Pascal" }, { "nasm", "Assembly" },
	{ "asm", "Assembly" }, { "erb", "HTML+ERB" }, { "django", "Jinja" }, { "fish", "fish" },
	{ "FISH", "fish" }, { "restructuredtext", "reStructuredText" },
};

static void lang_find_accepts_names_and_aliases(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(find_cases); i++) {
		const char *suggestion = "unset";
		const char *in = find_cases[i].input;
		uint16_t id = lang_find(in, strlen(in), &suggestion);

		if (strcmp(lang_name(id), find_cases[i].lang) != 0)
			fail_msg("lang_find(\"%s\") = \"%s\", want \"%s\"", in, lang_name(id),
				 find_cases[i].lang);
		assert_null(suggestion);
	}
	/* Counted, not NUL-terminated. */
	assert_string_equal(lang_name(lang_find("gox", 2, NULL)), "Go");
	assert_string_equal(lang_name(lang_find("rustacean", 4, NULL)), "Rust");
}

static void lang_find_rejects_unknown_names(void **state)
{
	static const char *const unknown[] = {
		"", "c+", "zzzz", "brainfork-ish", "go ", " go", "java script", "pythonic-thing",
	};
	char long_name[LANG_NAME_MAX + 2];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(unknown); i++)
		assert_int_equal(lang_find(unknown[i], strlen(unknown[i]), NULL), LANG_UNKNOWN);
	assert_int_equal(lang_find(NULL, 3, NULL), LANG_UNKNOWN);
	assert_int_equal(lang_find("go", 0, NULL), LANG_UNKNOWN);
	memset(long_name, 'a', sizeof(long_name));
	assert_int_equal(lang_find(long_name, sizeof(long_name), NULL), LANG_UNKNOWN);
	assert_int_equal(lang_find("g\0", 2, NULL), LANG_UNKNOWN);
}

static const struct find_case suggestion_cases[] = {
	{ "pyhton", "Python" }, { "Pyhton", "Python" }, { "pythn", "Python" },
	{ "javscript", "JavaScript" }, { "javasript", "JavaScript" }, { "typscript", "TypeScript" },
	{ "tyepscript", "TypeScript" }, { "golnag", "Go" }, { "rsut", "Rust" },
	{ "kotiln", "Kotlin" }, { "markdwon", "Markdown" }, { "dockrfile", "Dockerfile" },
	{ "haskel", "Haskell" }, { "jvaa", "Java" }, { "rubby", "Ruby" }, { "pearl", "Perl" },
	{ "csharpp", "C#" }, { "powershel", "PowerShell" }, { "objective-cc", "Objective-C" },
	{ "starlrk", "Starlark" }, { "yamll", "YAML" }, { "makfile", "Makefile" },
	{ "javascritp", "JavaScript" },
};

static void lang_find_suggests_the_closest_name(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(suggestion_cases); i++) {
		const char *suggestion = NULL;
		const char *in = suggestion_cases[i].input;

		assert_int_equal(lang_find(in, strlen(in), &suggestion), LANG_UNKNOWN);
		if (suggestion == NULL || strcmp(suggestion, suggestion_cases[i].lang) != 0)
			fail_msg("suggestion for \"%s\" = \"%s\", want \"%s\"", in,
				 suggestion ? suggestion : "(null)", suggestion_cases[i].lang);
	}
}

static void lang_find_suggests_nothing_when_far(void **state)
{
	static const char *const far[] = {
		"x", "ab", "c+", "zzzzzz", "qwertyuiop", "0123456789", "hello world again",
	};
	char long_name[LANG_NAME_MAX + 2];
	const char *suggestion;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(far); i++) {
		suggestion = "unset";
		assert_int_equal(lang_find(far[i], strlen(far[i]), &suggestion), LANG_UNKNOWN);
		if (suggestion != NULL)
			fail_msg("suggestion for \"%s\" = \"%s\", want none", far[i], suggestion);
	}
	memset(long_name, 'p', sizeof(long_name));
	suggestion = "unset";
	assert_int_equal(lang_find(long_name, sizeof(long_name), &suggestion), LANG_UNKNOWN);
	assert_null(suggestion);
	suggestion = "unset";
	assert_int_equal(lang_find(NULL, 0, &suggestion), LANG_UNKNOWN);
	assert_null(suggestion);
}

struct kind_case {
	const char *path;
	enum lang_path_kind kind;
};

static const struct kind_case kind_cases[] = {
	/* Ordinary source, including near misses of the rules. */
	{ "src/main.c", LANG_PATH_SOURCE }, { "lib/parser.go", LANG_PATH_SOURCE },
	{ "pkg/latest.go", LANG_PATH_SOURCE }, { "src/contest.py", LANG_PATH_SOURCE },
	{ "Testament.java", LANG_PATH_SOURCE }, { "Test.java", LANG_PATH_SOURCE },
	{ "src/testing/helpers.go", LANG_PATH_SOURCE }, { "src/cache/lru.c", LANG_PATH_SOURCE },
	{ "tools/gen.py", LANG_PATH_SOURCE }, { "install.sh", LANG_PATH_SOURCE },
	{ "history.py", LANG_PATH_SOURCE }, { "license_check.py", LANG_PATH_SOURCE },
	{ "src/build/build.c", LANG_PATH_SOURCE }, { "pkg/pods/list.go", LANG_PATH_SOURCE },
	{ "trawl.spec", LANG_PATH_SOURCE }, { "src/vendored.c", LANG_PATH_SOURCE },
	{ "keygen.go", LANG_PATH_SOURCE }, { "", LANG_PATH_SOURCE },
	/* Tests */
	{ "foo_test.go", LANG_PATH_TEST }, { "pkg/foo_test.go", LANG_PATH_TEST },
	{ "test_lang.py", LANG_PATH_TEST }, { "tests/unit/query/test_lang.c", LANG_PATH_TEST },
	{ "tests/helpers.c", LANG_PATH_TEST }, { "test/x.js", LANG_PATH_TEST },
	{ "src/__tests__/App.js", LANG_PATH_TEST }, { "App.test.tsx", LANG_PATH_TEST },
	{ "app.spec.ts", LANG_PATH_TEST }, { "user_spec.rb", LANG_PATH_TEST },
	{ "FooTest.java", LANG_PATH_TEST }, { "FooTests.cs", LANG_PATH_TEST },
	{ "TestFoo.java", LANG_PATH_TEST }, { "spec/models/user.rb", LANG_PATH_TEST },
	{ "t/basic.t", LANG_PATH_TEST }, { "testdata/input.txt", LANG_PATH_TEST },
	{ "conftest.py", LANG_PATH_TEST }, { "app/tests.py", LANG_PATH_TEST },
	{ "Sources/Tests/Foo.swift", LANG_PATH_TEST }, { "e2e/login.cy.js", LANG_PATH_TEST },
	{ "__mocks__/fs.js", LANG_PATH_TEST }, { "foo_unittest.cc", LANG_PATH_TEST },
	{ "x_SUITE.erl", LANG_PATH_TEST }, { "docs/test_conf.py", LANG_PATH_TEST },
	/* Vendored */
	{ "node_modules/lodash/index.js", LANG_PATH_VENDORED },
	{ "vendor/github.com/x/y.go", LANG_PATH_VENDORED },
	{ "third_party/zlib/deflate.c", LANG_PATH_VENDORED },
	{ "src/third-party/x.c", LANG_PATH_VENDORED }, { "ThirdParty/x.cpp", LANG_PATH_VENDORED },
	{ "bower_components/x.js", LANG_PATH_VENDORED },
	{ "public/js/jquery-3.6.0.js", LANG_PATH_VENDORED },
	{ "static/app.min.js", LANG_PATH_VENDORED }, { "css/x.min.css", LANG_PATH_VENDORED },
	{ "Pods/AFNetworking/x.m", LANG_PATH_VENDORED },
	{ "Carthage/Build/x.h", LANG_PATH_VENDORED }, { "gradlew", LANG_PATH_VENDORED },
	{ "gradle/wrapper/gradle-wrapper.properties", LANG_PATH_VENDORED },
	{ "configure", LANG_PATH_VENDORED }, { "external/x.c", LANG_PATH_VENDORED },
	{ "dist/bundle.js", LANG_PATH_VENDORED }, { ".venv/lib/x.py", LANG_PATH_VENDORED },
	{ "deps/x.c", LANG_PATH_VENDORED }, { "vendor/x/foo_test.go", LANG_PATH_VENDORED },
	{ "node_modules/x/README.md", LANG_PATH_VENDORED },
	/* Generated */
	{ "api/v1/api.pb.go", LANG_PATH_GENERATED }, { "proto/x_pb2.py", LANG_PATH_GENERATED },
	{ "x_pb2_grpc.py", LANG_PATH_GENERATED }, { "web/x_pb.js", LANG_PATH_GENERATED },
	{ "x_pb.d.ts", LANG_PATH_GENERATED }, { "src/Foo.generated.cs", LANG_PATH_GENERATED },
	{ "schema.generated.ts", LANG_PATH_GENERATED },
	{ "zz_generated.deepcopy.go", LANG_PATH_GENERATED },
	{ "types_gen.go", LANG_PATH_GENERATED }, { "model.g.dart", LANG_PATH_GENERATED },
	{ "Form1.Designer.cs", LANG_PATH_GENERATED }, { "app.js.map", LANG_PATH_GENERATED },
	{ "package-lock.json", LANG_PATH_GENERATED }, { "yarn.lock", LANG_PATH_GENERATED },
	{ "Cargo.lock", LANG_PATH_GENERATED }, { "go.sum", LANG_PATH_GENERATED },
	{ "pnpm-lock.yaml", LANG_PATH_GENERATED },
	{ "src/__generated__/x.graphql.ts", LANG_PATH_GENERATED },
	{ "generated/x.c", LANG_PATH_GENERATED }, { "tests/foo.pb.go", LANG_PATH_GENERATED },
	/* Documentation */
	{ "README.md", LANG_PATH_DOCUMENTATION }, { "README", LANG_PATH_DOCUMENTATION },
	{ "docs/index.md", LANG_PATH_DOCUMENTATION }, { "doc/x.txt", LANG_PATH_DOCUMENTATION },
	{ "Documentation/x.rst", LANG_PATH_DOCUMENTATION },
	{ "docs/conf.py", LANG_PATH_DOCUMENTATION }, { "LICENSE", LANG_PATH_DOCUMENTATION },
	{ "LICENSE-MIT", LANG_PATH_DOCUMENTATION }, { "LICENSE.txt", LANG_PATH_DOCUMENTATION },
	{ "license.md", LANG_PATH_DOCUMENTATION }, { "CHANGELOG.md", LANG_PATH_DOCUMENTATION },
	{ "CONTRIBUTING.md", LANG_PATH_DOCUMENTATION }, { "COPYING", LANG_PATH_DOCUMENTATION },
	{ "tests/README.md", LANG_PATH_DOCUMENTATION },
	{ "examples/hello.go", LANG_PATH_DOCUMENTATION },
	{ "pkg/a/README_zh.md", LANG_PATH_DOCUMENTATION },
	{ "CODE_OF_CONDUCT.md", LANG_PATH_DOCUMENTATION }, { "INSTALL", LANG_PATH_DOCUMENTATION },
	{ "AUTHORS", LANG_PATH_DOCUMENTATION }, { "man/trawl.1", LANG_PATH_DOCUMENTATION },
	{ "NEWS", LANG_PATH_DOCUMENTATION }, { "History.md", LANG_PATH_DOCUMENTATION },
};

static void lang_path_kind_follows_linguist_ideas(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(kind_cases); i++) {
		const char *path = kind_cases[i].path;
		enum lang_path_kind got = lang_path_kind(path, strlen(path));

		if (got != kind_cases[i].kind)
			fail_msg("lang_path_kind(\"%s\") = %d, want %d", path, (int)got,
				 (int)kind_cases[i].kind);
	}
}

static void lang_path_kind_reads_only_its_length(void **state)
{
	char slashes[2048];

	(void)state;
	assert_int_equal(lang_path_kind("src/x_test.go", 6), LANG_PATH_SOURCE); /* "src/x_" */
	assert_int_equal(lang_path_kind("tests/x.c", 5), LANG_PATH_TEST);        /* file "tests" */
	assert_int_equal(lang_path_kind("README\0.md", 10), LANG_PATH_SOURCE);
	assert_int_equal(lang_path_kind("LICENSE\0", 8), LANG_PATH_SOURCE);
	assert_int_equal(lang_path_kind(NULL, 0), LANG_PATH_SOURCE);
	memset(slashes, '/', sizeof(slashes));
	assert_int_equal(lang_path_kind(slashes, sizeof(slashes)), LANG_PATH_SOURCE);
	memcpy(slashes + 100, "vendor", 6);
	assert_int_equal(lang_path_kind(slashes, sizeof(slashes)), LANG_PATH_VENDORED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lang_tables_are_consistent),
		cmocka_unit_test(lang_ids_are_stable),
		cmocka_unit_test(lang_names_round_trip),
		cmocka_unit_test(lang_detect_knows_common_extensions),
		cmocka_unit_test(lang_detect_knows_special_file_names),
		cmocka_unit_test(lang_detect_resolves_ambiguity_deterministically),
		cmocka_unit_test(lang_detect_handles_path_shapes),
		cmocka_unit_test(lang_detect_reads_only_its_length),
		cmocka_unit_test(lang_find_accepts_names_and_aliases),
		cmocka_unit_test(lang_find_rejects_unknown_names),
		cmocka_unit_test(lang_find_suggests_the_closest_name),
		cmocka_unit_test(lang_find_suggests_nothing_when_far),
		cmocka_unit_test(lang_path_kind_follows_linguist_ideas),
		cmocka_unit_test(lang_path_kind_reads_only_its_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
