# trawl build. `make` builds the release binary; `make test` installs what is missing, builds and
# runs every test; `make BUILD=asan test` does the same under AddressSanitizer and UBSan.
#
#   make [BUILD=release|asan|tsan]  build build/$(BUILD)/trawl
#   make test                   deps, build, unit + end-to-end tests, "N passed, N failed"
#   make asan-test              the whole suite again under ASan+UBSan
#   make tsan-test              the threaded tests (server, search, auth, regex, sso and the
#                               server's end-to-end tests) under ThreadSanitizer
#   make valgrind-unit          every unit test of the release build under Valgrind memcheck
#                               (make valgrind-ci: the subset CI runs); docs/internals/testing-ci.md
#   make fuzz                   libFuzzer targets (clang) into build/fuzz/
#   make serve [REPOS="path ..."]  index this repository (and REPOS) into ./trawl-data, serve it
#                               on http://127.0.0.1:6070/ (the web UI and docs/api.md); the
#                               server's first log line says its mode (laptop or team)
#   make compile_commands.json  for clangd and clang-tidy
#   make lint                   clang-tidy against its baseline (make lint-changed: changed files)
#   WERROR=1                    warnings are errors (CI sets it)

BUILD ?= release
O := build/$(BUILD)
CC ?= cc
PKGS := libhs jansson zlib sqlite3 libsodium libseccomp
# libpq: the store's PostgreSQL backend (src/store/db_pg.c, --database postgres://...), which
# loads it with dlopen when a PostgreSQL URL is opened: linked, its 22 libraries cost every
# trawl process ~3.5 ms at start. Its headers only, and the unit tests' helper links it.
DB_PKGS := libpq
# The server's libraries (HTTP, TLS, single sign-on's HTTPS and JOSE: with theirs, about twenty)
# only go into trawl-serve.so, which `trawl serve` loads: resolving them cost every other trawl
# process ~5.5 ms at start, `trawl search` included (src/server/serveapi.h).
SERVE_PKGS := libmicrohttpd gnutls cjose libcurl libcmark
# libgit2 (and its dozen dependencies) only goes into trawl-git.so, which `trawl index` loads
# when it meets a git repository: every other trawl process starts ~2.4 ms faster without it.
GIT_PKGS := libgit2
TEST_PKGS := cmocka

DEPS_OK := $(shell pkg-config --exists $(PKGS) $(DB_PKGS) $(SERVE_PKGS) $(GIT_PKGS) $(TEST_PKGS) 2>/dev/null && echo yes)
ifneq ($(DEPS_OK),yes)
  ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
    $(info trawl: build dependencies missing; running scripts/deps.sh)
    $(shell scripts/deps.sh >&2)
  endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(DB_PKGS) $(SERVE_PKGS) $(GIT_PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SERVE_LIBS := $(shell pkg-config --libs $(SERVE_PKGS) 2>/dev/null)
GIT_LIBS := $(shell pkg-config --libs $(GIT_PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS := $(shell pkg-config --libs $(TEST_PKGS) $(DB_PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes -Wmissing-prototypes
# Hardening for every flavour; _FORTIFY_SOURCE needs optimisation and is set in the release
# build only (level 3: the checks also use sizes known only at run time, gcc 12, glibc 2.36).
HARDEN := -fstack-protector-strong -fstack-clash-protection -fcf-protection -fPIE
ifeq ($(WERROR),1)
  WARN += -Werror
endif

ifeq ($(BUILD),asan)
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  LDOPT := -fsanitize=address,undefined
else ifeq ($(BUILD),tsan)
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
  LDOPT := -fsanitize=thread
else ifeq ($(BUILD),debug)
  OPT := -O0 -g
  LDOPT :=
else
  OPT := -O2 -g -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3
  LDOPT :=
endif

CFLAGS_ALL := -std=c17 -D_GNU_SOURCE -Isrc $(WARN) $(HARDEN) $(OPT) -pthread $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now -pthread $(LDOPT) $(LDFLAGS)

# The git units without libgit2 that trawl sync needs itself (the URL policy, the credentials
# entry it hands the fetch worker) are in the binary; the module uses them from there.
GIT_PURE_SRC := src/git/url.c src/git/cred.c
GIT_SRC := $(sort $(filter-out $(GIT_PURE_SRC),$(wildcard src/git/*.c)) src/build/build_git.c)
SERVE_SRC := $(sort $(wildcard src/server/*.c src/sso/*.c))
LIB_SRC := $(sort $(filter-out $(GIT_SRC) $(SERVE_SRC),$(shell find src -name '*.c' ! -path 'src/cli/*')))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
UNIT_SRC := $(sort $(shell find tests/unit -name 'test_*.c' 2>/dev/null))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

# The web UI (web/, written by the UI's authors) is embedded into the binary: every file's bytes
# in build/$(BUILD)/gen/web_assets.c. The list of files is compared at parse time, so adding or
# removing a file regenerates it too; a missing web/ gives an empty table, not a broken build.
WEB_FILES := $(sort $(shell find web -type f ! -name '.*' 2>/dev/null))
GEN_SRC := $(O)/gen/web_assets.c
GEN_OBJ := $(O)/gen/web_assets.o
WEB_LIST := $(O)/gen/web_files
$(shell mkdir -p $(O)/gen && (echo '$(WEB_FILES)' | cmp -s - $(WEB_LIST) || echo '$(WEB_FILES)' > $(WEB_LIST)))
# The common-password list (data/common-passwords.txt) is compiled in too, for src/auth/password.c.
PW_LIST := data/common-passwords.txt
PW_SRC := $(O)/gen/common_passwords.c
PW_OBJ := $(O)/gen/common_passwords.o

LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o) $(PW_OBJ)
CLI_OBJ := $(CLI_SRC:%.c=$(O)/%.o)
UNIT_BIN := $(UNIT_SRC:%.c=$(O)/%)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(O)/tests/fuzz/replay_%)

.PHONY: all test asan-test tsan-test valgrind-unit valgrind-ci unit e2e fuzz deps clean serve \
	lint lint-tidy lint-changed
GIT_OBJ := $(GIT_SRC:%.c=$(O)/pic/%.o)
# The server module holds the embedded web UI too.
SERVE_OBJ := $(SERVE_SRC:%.c=$(O)/pic/%.o) $(GEN_OBJ)

all: $(O)/trawl $(O)/trawl-git.so $(O)/trawl-serve.so build/trawl $(O)/trawl-test \
	$(O)/trawl-serve-test.so

# Always re-pointed: after `make BUILD=asan`, a plain `make` must give the release binary
# again (a file-date rule would keep the newer sanitizer link, as the benchmark once measured).
.PHONY: build/trawl
build/trawl: $(O)/trawl
	@ln -sfn $(BUILD)/trawl $@

# -rdynamic: trawl-git.so and trawl-serve.so use the binary's own index, search, accounts and
# error state.
$(O)/trawl: $(CLI_OBJ) $(O)/libtrawl.a
	$(CC) -rdynamic -o $@ $(CLI_OBJ) -Wl,--whole-archive $(O)/libtrawl.a -Wl,--no-whole-archive $(LDFLAGS_ALL) $(PKG_LIBS) -lm -ldl

# The test binary (docs/internals/testing.md): trawl with the test hooks (TRAWL_TEST_WORKER_*,
# TRAWL_SYNC_CMD, TRAWL_TEST_CTAGS) that the release binary does not have, and its server module
# trawl-serve-test.so (which trawl-test's servemod.c loads). Only the units that read them differ.
HOOK_SRC := src/cli/cmd_worker.c src/cli/servemod.c src/sandbox/worker.c src/symbols/ctags.c
HOOK_OBJ := $(HOOK_SRC:%.c=$(O)/hooks/%.o)
SERVE_HOOK_SRC := src/server/sandbox.c src/server/sched.c
SERVE_HOOK_OBJ := $(SERVE_HOOK_SRC:%.c=$(O)/hooks/pic/%.o)
$(O)/hooks/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DTRAWL_TEST_HOOKS -MMD -MP -c -o $@ $<
$(O)/hooks/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DTRAWL_TEST_HOOKS -fPIC -MMD -MP -c -o $@ $<

$(O)/trawl-test: $(filter-out $(HOOK_SRC:%.c=$(O)/%.o),$(CLI_OBJ) $(LIB_OBJ)) $(HOOK_OBJ)
	$(CC) -rdynamic -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS) -lm -ldl

$(O)/trawl-serve-test.so: $(filter-out $(SERVE_HOOK_SRC:%.c=$(O)/pic/%.o),$(SERVE_OBJ)) $(SERVE_HOOK_OBJ)
	$(CC) -shared -o $@ $^ -Wl,-z,relro,-z,now -pthread $(LDOPT) $(SERVE_LIBS)

$(O)/trawl-git.so: $(GIT_OBJ)
	$(CC) -shared -o $@ $^ -Wl,-z,relro,-z,now -pthread $(LDOPT) $(GIT_LIBS)

$(O)/trawl-serve.so: $(SERVE_OBJ)
	$(CC) -shared -o $@ $^ -Wl,-z,relro,-z,now -pthread $(LDOPT) $(SERVE_LIBS)

$(O)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -MMD -MP -c -o $@ $<

$(GEN_SRC): scripts/embed.py $(WEB_FILES) $(WEB_LIST)
	@python3 scripts/embed.py web $@

$(GEN_OBJ): $(GEN_SRC)
	$(CC) $(CFLAGS_ALL) -fPIC -c -o $@ $<

$(PW_SRC): scripts/gen_passwords.py $(PW_LIST)
	@python3 scripts/gen_passwords.py $(PW_LIST) $@

$(PW_OBJ): $(PW_SRC)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

# The Makefile too: an object that moved out of the library (to a module) must leave the archive.
$(O)/libtrawl.a: $(LIB_OBJ) Makefile
	@rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

# tests/unit/testlib.c: helpers every unit test may use (temporary directory, fixture files).
$(O)/tests/unit/%: tests/unit/%.c tests/unit/testlib.c tests/unit/testlib.h $(O)/libtrawl.a $(GIT_OBJ) $(SERVE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) -Itests -o $@ $< tests/unit/testlib.c $(UNIT_EXTRA) $(GIT_OBJ) $(SERVE_OBJ) $(O)/libtrawl.a $(LDFLAGS_ALL) $(TEST_LIBS) $(PKG_LIBS) $(SERVE_LIBS) $(GIT_LIBS) -lm

# The ctags tests run a fake ctags (TRAWL_TEST_CTAGS): they link the hooked ctags.o, which the
# linker takes before the archive's.
CTAGS_HOOK_BIN := $(filter $(O)/tests/unit/symbols/test_ctags $(O)/tests/unit/symbols/test_launcher,$(UNIT_BIN))
$(CTAGS_HOOK_BIN): $(O)/hooks/src/symbols/ctags.o
$(CTAGS_HOOK_BIN): UNIT_EXTRA := $(O)/hooks/src/symbols/ctags.o

# The allocation-failure tests (tests/unit/faults/, docs/internals/testing.md) link a counting
# allocator that fails the Nth allocation in place of the C library's, through the linker's --wrap.
FAULT_BIN := $(filter $(O)/tests/unit/faults/%,$(UNIT_BIN))
$(FAULT_BIN): tests/unit/faults/faultalloc.c tests/unit/faults/faultalloc.h
$(FAULT_BIN): UNIT_EXTRA := tests/unit/faults/faultalloc.c \
	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup,--wrap=posix_memalign \
	-Wl,--wrap=json_loadb

# Each fuzz target is also built as a plain program that replays its corpus, so `make test`
# checks every saved input without needing clang. The git module's units without libgit2
# (known_hosts) are linked in too, for their targets.
FUZZ_GIT_SRC := src/git/knownhosts.c
$(O)/tests/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(O)/libtrawl.a $(FUZZ_GIT_SRC:%.c=$(O)/pic/%.o) $(SERVE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -o $@ $< tests/fuzz/replay.c $(FUZZ_GIT_SRC:%.c=$(O)/pic/%.o) $(SERVE_OBJ) $(O)/libtrawl.a $(LDFLAGS_ALL) $(PKG_LIBS) $(SERVE_LIBS) -lm

test: all $(UNIT_BIN) $(REPLAY_BIN)
	@BUILD=$(BUILD) tests/run.sh

asan-test:
	@$(MAKE) --no-print-directory BUILD=asan test

unit: $(UNIT_BIN)

# ThreadSanitizer (docs/internals/testing-ci.md): the tests whose code runs threads. Unit tests
# of every module that starts one (server: pool, sweeper, scheduler, snapshot watcher; search:
# shards in parallel; auth: the audit writer; regex: the shared pattern caches and compile
# helpers; sso; build: the indexing pipeline) and the end-to-end tests of the server and its
# index swaps. TSAN_TESTS are tests/run.sh filters; `make tsan-test TSAN_TESTS=e2e/` for more.
TSAN_TESTS ?= tests/unit/server/ tests/unit/search/test_search tests/unit/search/test_request \
	tests/unit/auth/test_audit tests/unit/auth/test_throttle tests/unit/regex/test_patcache \
	tests/unit/regex/test_dbcache tests/unit/regex/test_matcher tests/unit/sso/ \
	tests/unit/build/ e2e/test_serve.py e2e/test_swap_verify.py
TSAN_UNIT_BIN = $(foreach f,$(TSAN_TESTS),$(filter $(O)/$(f)%,$(UNIT_BIN)))
tsan-test:
	@$(MAKE) --no-print-directory BUILD=tsan tsan-run
.PHONY: tsan-run
tsan-run: all $(TSAN_UNIT_BIN)
	@BUILD=tsan tests/run.sh $(TSAN_TESTS)

# Valgrind memcheck over the release build's unit tests: every one (valgrind-unit), or the
# subset CI can afford (valgrind-ci): the parsers and decoders of untrusted input, the server's
# request code and the store, leaving out the tests that take minutes under Valgrind (the
# shard reader's random damage, the password hashing of test_auth and of the store's account
# tests, the audit trail's million refusals, the searches of test_search and test_litmask).
# Times: docs/internals/testing-ci.md.
VALGRIND_CI ?= tests/unit/util/ tests/unit/query/ tests/unit/server/ tests/unit/store/test_rows \
	tests/unit/index/test_postings tests/unit/index/test_index tests/unit/regex/test_parse \
	tests/unit/regex/test_verify tests/unit/regex/test_substr tests/unit/search/test_request \
	tests/unit/git/test_url tests/unit/git/test_knownhosts
valgrind-unit: $(UNIT_BIN)
	@VALGRIND=1 BUILD=$(BUILD) tests/run.sh tests/unit/
valgrind-ci: $(UNIT_BIN)
	@VALGRIND=1 BUILD=$(BUILD) tests/run.sh $(VALGRIND_CI)

FUZZ_O := build/fuzz
# -fno-sanitize-recover: undefined behaviour stops the fuzzer with the input, like a crash.
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -Isrc -Itests -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $(PKG_CFLAGS)
# The code under test is compiled once into one archive (instrumented; libFuzzer's main comes
# with the link) that each target links: 13 targets cost one compilation of the sources, not 13
# (about 3 minutes of CI on 2 cores).
FUZZ_LIB_SRC := $(LIB_SRC) $(SERVE_SRC) $(FUZZ_GIT_SRC)
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_O)/obj/%.o) $(FUZZ_O)/obj/web_assets.o \
	$(FUZZ_O)/obj/common_passwords.o
fuzz: $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(FUZZ_O)/fuzz_%)
$(FUZZ_O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
$(FUZZ_O)/obj/web_assets.o: $(GEN_SRC)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
$(FUZZ_O)/obj/common_passwords.o: $(PW_SRC)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
$(FUZZ_O)/libfuzzed.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_O)/libfuzzed.a
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_O)/libfuzzed.a $(PKG_LIBS) $(SERVE_LIBS) -lm -pthread

deps:
	scripts/deps.sh

# What permissions cost a request (bench/auth_cost.c; bench/design-measurements.md): accounts
# with 10,000 repositories' grants, and searches over a small index of a few of src/'s modules.
BENCH_AUTH_DIR ?= build/bench-auth
.PHONY: bench-auth
bench-auth: $(O)/bench/auth_cost $(O)/trawl
	rm -rf $(BENCH_AUTH_DIR) && mkdir -p $(BENCH_AUTH_DIR)/data
	$(O)/trawl index -q -o $(BENCH_AUTH_DIR)/index src/auth src/search src/util src/query
	$(O)/bench/auth_cost $(BENCH_AUTH_DIR)/data $(BENCH_AUTH_DIR)/index

$(O)/bench/auth_cost: bench/auth_cost.c $(O)/libtrawl.a $(SERVE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(SERVE_OBJ) $(O)/libtrawl.a $(LDFLAGS_ALL) $(PKG_LIBS) $(SERVE_LIBS) -lm

# The sample data directory: this repository (its committed HEAD) and any REPOS are registered
# (`trawl repo add`), synced (`trawl sync`) and served; the server's scheduler keeps them fresh.
SERVE_DATA ?= trawl-data
SERVE_LISTEN ?= 127.0.0.1:6070
serve: all
	scripts/serve.sh $(O)/trawl $(SERVE_DATA) $(SERVE_LISTEN) $(REPOS)

compile_commands.json: $(LIB_SRC) $(SERVE_SRC) $(GIT_SRC) $(CLI_SRC) $(UNIT_SRC) Makefile
	@scripts/compdb.sh '$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) -Itests' $(LIB_SRC) $(SERVE_SRC) $(GIT_SRC) $(CLI_SRC) $(UNIT_SRC) tests/unit/testlib.c tests/unit/faults/faultalloc.c > $@
	@echo wrote $@

# Lint (docs/internals/style.md). lint-tidy: clang-tidy (.clang-tidy) on every source, failing
# on findings not in .clang-tidy-baseline; CI runs it. lint-changed: the same on the C files
# changed since $(LINT_BASE), plus clang-format (.clang-format) on the changed lines only, as
# the tree itself is not reformatted.
LINT_BASE ?= main
lint: lint-tidy
lint-tidy: compile_commands.json
	scripts/lint-tidy.sh
lint-changed: compile_commands.json
	scripts/lint-tidy.sh --changed $(LINT_BASE)
	scripts/format-check.sh $(LINT_BASE)

clean:
	rm -rf build compile_commands.json

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(GIT_OBJ:.o=.d) $(SERVE_OBJ:.o=.d) \
	$(HOOK_OBJ:.o=.d) $(SERVE_HOOK_OBJ:.o=.d) $(wildcard $(FUZZ_O)/obj/src/*/*.d)
