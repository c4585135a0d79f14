/*
 * The repair of libhs's debugging snprintf; see hsfix.h.
 *
 * DESIGN: the library cannot be rebuilt here and no newer one is packaged, so its one link to
 * __snprintf_chk is pointed at safe_snprintf_chk below: the relocation is found by name in
 * libhs's own dynamic section (dl_iterate_phdr), and its slot, read-only after relocation
 * (RELRO), is made writable for the one store and read-only again. Nothing else in the process
 * changes: other libraries keep glibc's function.
 */
#include "regex/hsfix.h"

#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/error.h"

/* The relocations that bind a function's slot, on the 64-bit platforms Vectorscan runs on. */
#if defined(__x86_64__)
#define RELOC_JUMP_SLOT R_X86_64_JUMP_SLOT
#define RELOC_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define RELOC_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define RELOC_GLOB_DAT R_AARCH64_GLOB_DAT
#else
#error "hsfix.c: add this platform's JUMP_SLOT and GLOB_DAT relocations"
#endif

/*
 * glibc's __snprintf_chk for libhs: a size over the buffer's (slen) is cut to it instead of
 * aborting, and a lone "%s" copies at most size - 1 bytes of its argument without reading
 * further (its return value is then the length copied).
 */
__attribute__((format(printf, 5, 6))) static int safe_snprintf_chk(char *s, size_t maxlen, int flag,
								   size_t slen, const char *fmt, ...)
{
	va_list ap;
	int n;

	(void)flag;
	if (maxlen > slen)
		maxlen = slen;
	va_start(ap, fmt);
	if (strcmp(fmt, "%s") == 0) {
		const char *arg = va_arg(ap, const char *);
		size_t len = maxlen ? strnlen(arg, maxlen - 1) : 0;

		if (maxlen) {
			memcpy(s, arg, len);
			s[len] = '\0';
		}
		n = (int)len;
	} else {
		n = vsnprintf(s, maxlen, fmt, ap);
	}
	va_end(ap);
	return n;
}

struct found {
	void **slot;                /* libhs's slot for __snprintf_chk */
	uintptr_t relro, relro_end; /* libhs's RELRO segment: read-only after relocation */
	bool has_libhs;
};

/* A dynamic-section address: glibc stores most of them relocated, but not every loader does. */
static uintptr_t dyn_addr(ElfW(Addr) base, ElfW(Addr) ptr)
{
	return ptr < base ? base + ptr : ptr;
}

/* The slot of symbol name among count relocations at rela, or NULL. */
static void **reloc_slot(ElfW(Addr) base, const ElfW(Rela) * rela, size_t count,
			 const ElfW(Sym) * symtab, const char *strtab, const char *name)
{
	for (size_t i = 0; i < count; i++) {
		unsigned long type = ELF64_R_TYPE(rela[i].r_info);

		if (type != RELOC_JUMP_SLOT && type != RELOC_GLOB_DAT)
			continue;
		if (strcmp(strtab + symtab[ELF64_R_SYM(rela[i].r_info)].st_name, name) == 0)
			return (void **)(base + rela[i].r_offset);
	}
	return NULL;
}

static int find_slot(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct found *f = arg;
	const ElfW(Dyn) *dyn = NULL;
	const ElfW(Rela) *jmprel = NULL, *rela = NULL;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL, *base_name;
	size_t jmprel_size = 0, rela_size = 0;

	(void)size;
	base_name = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
	if (!base_name || strncmp(base_name + 1, "libhs.so", 8) != 0)
		return 0;
	f->has_libhs = true;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
		if (ph->p_type == PT_GNU_RELRO) {
			f->relro = info->dlpi_addr + ph->p_vaddr;
			f->relro_end = f->relro + ph->p_memsz;
		}
	}
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		uintptr_t p = dyn_addr(info->dlpi_addr, dyn->d_un.d_ptr);

		switch (dyn->d_tag) {
		case DT_JMPREL:
			jmprel = (const ElfW(Rela) *)p;
			break;
		case DT_PLTRELSZ:
			jmprel_size = dyn->d_un.d_val;
			break;
		case DT_RELA:
			rela = (const ElfW(Rela) *)p;
			break;
		case DT_RELASZ:
			rela_size = dyn->d_un.d_val;
			break;
		case DT_SYMTAB:
			symtab = (const ElfW(Sym) *)p;
			break;
		case DT_STRTAB:
			strtab = (const char *)p;
			break;
		default:
			break;
		}
	}
	if (!symtab || !strtab)
		return 1;
	if (jmprel)
		f->slot = reloc_slot(info->dlpi_addr, jmprel, jmprel_size / sizeof(*jmprel), symtab,
				     strtab, "__snprintf_chk");
	if (!f->slot && rela)
		f->slot = reloc_slot(info->dlpi_addr, rela, rela_size / sizeof(*rela), symtab, strtab,
				     "__snprintf_chk");
	return 1;
}

static bool is_applied;
static char failure[128];

static void apply(void)
{
	struct found f = { .slot = NULL };
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t start, at;
	int prot;

	dl_iterate_phdr(find_slot, &f);
	if (!f.slot) {
		snprintf(failure, sizeof(failure), "%s",
			 f.has_libhs ? "libhs has no link to __snprintf_chk" : "libhs is not loaded");
		return;
	}
	at = (uintptr_t)f.slot;
	start = at & ~((uintptr_t)(page > 0 ? page : 4096) - 1);
	/* SECURITY: writable for this one store, then read-only again if RELRO had made it so. */
	prot = at >= f.relro && at < f.relro_end ? PROT_READ : PROT_READ | PROT_WRITE;
	if (mprotect((void *)start, at + sizeof(void *) - start, PROT_READ | PROT_WRITE) != 0) {
		snprintf(failure, sizeof(failure), "cannot write libhs's link table");
		return;
	}
	__atomic_store_n(f.slot, (void *)safe_snprintf_chk, __ATOMIC_RELEASE);
	(void)mprotect((void *)start, at + sizeof(void *) - start, prot);
	is_applied = true;
}

bool hsfix_apply(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, apply);
	if (!is_applied)
		error_set("Vectorscan's snprintf not repaired: %s", failure);
	return is_applied;
}
