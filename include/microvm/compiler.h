/* Compiler helpers shared by every module: result checking and overflow-checked arithmetic. */
#ifndef MICROVM_COMPILER_H
#define MICROVM_COMPILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MUST_CHECK __attribute__((warn_unused_result))
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#define NORETURN __attribute__((noreturn))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* A macro's value as a string literal: STRINGIFY(16) is "16". */
#define STRINGIFY(x) STRINGIFY_(x)
#define STRINGIFY_(x) #x

/* Built with AddressSanitizer: its allocator, not glibc's, serves malloc. */
#if defined(__SANITIZE_ADDRESS__)
#define BUILT_WITH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUILT_WITH_ASAN 1
#endif
#endif
#ifndef BUILT_WITH_ASAN
#define BUILT_WITH_ASAN 0
#endif

/* True when a + b overflows; *sum is then unspecified. */
static inline MUST_CHECK bool add_overflows_u64(uint64_t a, uint64_t b, uint64_t *sum)
{
	return __builtin_add_overflow(a, b, sum);
}

/* True when a * b overflows; *product is then unspecified. */
static inline MUST_CHECK bool mul_overflows_u64(uint64_t a, uint64_t b, uint64_t *product)
{
	return __builtin_mul_overflow(a, b, product);
}

static inline bool is_pow2_u64(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* align must be a power of two; returns false when rounding up overflows. */
static inline MUST_CHECK bool align_up_u64(uint64_t v, uint64_t align, uint64_t *out)
{
	uint64_t bumped;

	if (add_overflows_u64(v, align - 1, &bumped))
		return false;
	*out = bumped & ~(align - 1);
	return true;
}

static inline uint64_t align_down_u64(uint64_t v, uint64_t align)
{
	return v & ~(align - 1);
}

/* Half-open ranges [a, a_end) and [b, b_end) share at least one byte. */
static inline bool ranges_overlap(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

#endif
