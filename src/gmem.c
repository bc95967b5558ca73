#include "microvm/gmem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/layout.h"

static bool gmem_size_valid(uint64_t ram_size)
{
	return ram_size >= LAYOUT_MIN_RAM && ram_size <= LAYOUT_MAX_RAM && ram_size % LAYOUT_PAGE_SIZE == 0;
}

static int gmem_layout(struct gmem *mem, uint8_t *host, uint64_t ram_size)
{
	if (!gmem_size_valid(ram_size))
		return -EINVAL;

	memset(mem->regions, 0, sizeof(mem->regions));
	mem->ram_size = ram_size;
	if (ram_size <= LAYOUT_MMIO_GAP_START) {
		mem->regions[0] = (struct gmem_region){ .gpa = 0, .size = ram_size, .host = host };
		mem->nr_regions = 1;
		return 0;
	}
	/* RAM that would fall in the 32-bit MMIO gap moves above 4 GiB. */
	mem->regions[0] = (struct gmem_region){ .gpa = 0, .size = LAYOUT_MMIO_GAP_START, .host = host };
	mem->regions[1] = (struct gmem_region){
		.gpa = LAYOUT_MMIO_GAP_END,
		.size = ram_size - LAYOUT_MMIO_GAP_START,
		.host = host + LAYOUT_MMIO_GAP_START,
	};
	mem->nr_regions = 2;
	return 0;
}

/* Maps ram_size bytes, anonymous (fd -1) or of fd, private to this process. */
static int gmem_map(struct gmem *mem, uint64_t ram_size, int fd)
{
	void *host;
	int ret;

	host = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_NORESERVE | (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0);
	if (host == MAP_FAILED)
		return -errno;
	/* The guest's memory is the tenant's: never in a core dump of the VMM. */
	if (madvise(host, ram_size, MADV_DONTDUMP)) {
		ret = -errno;
		munmap(host, ram_size);
		return ret;
	}
	/*
	 * Fresh memory gets transparent huge pages: one fault per 2 MiB when the kernel is
	 * copied in, fewer TLB misses later. Best effort.
	 */
	if (fd < 0)
		(void)madvise(host, ram_size, MADV_HUGEPAGE);
	ret = gmem_layout(mem, host, ram_size);
	if (ret) {
		munmap(host, ram_size);
		return ret;
	}
	mem->mapping = host;
	mem->mapping_size = ram_size;
	return 0;
}

int gmem_create(struct gmem *mem, uint64_t ram_size)
{
	memset(mem, 0, sizeof(*mem));
	if (!gmem_size_valid(ram_size))
		return -EINVAL;
	return gmem_map(mem, ram_size, -1);
}

int gmem_create_from_file(struct gmem *mem, int fd, uint64_t ram_size)
{
	struct stat st;

	memset(mem, 0, sizeof(*mem));
	if (!gmem_size_valid(ram_size))
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size < ram_size)
		return -EINVAL;
	return gmem_map(mem, ram_size, fd);
}

int gmem_wrap(struct gmem *mem, void *host, uint64_t ram_size)
{
	memset(mem, 0, sizeof(*mem));
	return gmem_layout(mem, host, ram_size);
}

static bool gmem_page_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < LAYOUT_PAGE_SIZE / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

static int gmem_pwrite_all(int fd, const uint8_t *p, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len > (1u << 30) ? (1u << 30) : len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int gmem_save(const struct gmem *mem, int fd, uint64_t *written)
{
	uint64_t file_off = 0;

	*written = 0;
	/* A file of holes to begin with: only the pages with data are written. */
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)mem->ram_size) < 0)
		return -errno;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->regions[i];
		uint64_t run = 0;

		for (uint64_t off = 0; off <= r->size; off += LAYOUT_PAGE_SIZE) {
			int ret;

			if (off < r->size && !gmem_page_zero(r->host + off)) {
				run += LAYOUT_PAGE_SIZE;
				continue;
			}
			if (!run)
				continue;
			ret = gmem_pwrite_all(fd, r->host + off - run, run, file_off + off - run);
			if (ret)
				return ret;
			*written += run;
			run = 0;
		}
		file_off += r->size;
	}
	return 0;
}

void gmem_destroy(struct gmem *mem)
{
	if (mem->mapping)
		munmap(mem->mapping, mem->mapping_size);
	memset(mem, 0, sizeof(*mem));
}

void *gmem_ptr(const struct gmem *mem, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (len == 0 || add_overflows_u64(gpa, len, &end))
		return NULL;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->regions[i];

		if (gpa >= r->gpa && end <= r->gpa + r->size)
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

bool gmem_is_ram(const struct gmem *mem, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(mem, gpa, len) != NULL;
}

uint64_t gmem_low_end(const struct gmem *mem)
{
	return mem->nr_regions ? mem->regions[0].size : 0;
}

int gmem_read(const struct gmem *mem, uint64_t gpa, void *dst, uint64_t len)
{
	const void *src;

	if (len == 0)
		return 0;
	src = gmem_ptr(mem, gpa, len);
	if (!src)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int gmem_write(const struct gmem *mem, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst;

	if (len == 0)
		return 0;
	dst = gmem_ptr(mem, gpa, len);
	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int gmem_fill(const struct gmem *mem, uint64_t gpa, int byte, uint64_t len)
{
	void *dst;

	if (len == 0)
		return 0;
	dst = gmem_ptr(mem, gpa, len);
	if (!dst)
		return -EFAULT;
	memset(dst, byte, len);
	return 0;
}

int gmem_discard(const struct gmem *mem, uint64_t gpa, uint64_t len)
{
	uint8_t *host;

	if (gpa % LAYOUT_PAGE_SIZE || len % LAYOUT_PAGE_SIZE)
		return -EINVAL;
	host = gmem_ptr(mem, gpa, len);
	if (!host)
		return -EFAULT;
	/* Memory gmem did not map (a test's, a fuzzer's heap) is only cleared. */
	if (!mem->mapping) {
		memset(host, 0, len);
		return 0;
	}
	return madvise(host, len, MADV_DONTNEED) < 0 ? -errno : 0;
}
