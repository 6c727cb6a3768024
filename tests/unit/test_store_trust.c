/* A store only its owner controls (core/store.c, core/store_parents.c):
 * the checks at start, no symbolic link followed inside the store, and the
 * seals that tell a record or image metadata this store wrote from one
 * planted in it. */
#include "core_fixture.h"

#define SEAL_OF_A1 \
	"8d7ccbfb4deb4ab0158dea1632c3b915b21045f8d0dce62c21311fef8b716d6e"

static void fill_key(unsigned char *key, unsigned char first)
{
	size_t i;

	for (i = 0; i < STORE_KEY_LEN; i++)
		key[i] = (unsigned char)(first + i);
}

static void test_seal(void)
{
	unsigned char key[STORE_KEY_LEN], other[STORE_KEY_LEN];
	const char *name = "0000000000000001.json";
	struct buf b;

	fill_key(key, 1);
	fill_key(other, 2);
	buf_init(&b, 4096);
	buf_addstr(&b, "{\"a\":1}\n");
	CHECK(core_store_check_seal(key, name, b.data, b.len) == -ENOKEY);
	CHECK(core_store_seal(key, name, &b) == 0);
	/* HMAC-SHA256 of the name, a NUL and the body (Python's hmac agrees) */
	CHECK_STR(buf_str(&b), "{\"a\":1,\"mac\":\"" SEAL_OF_A1 "\"}\n");
	CHECK(core_store_check_seal(key, name, b.data, b.len) == 0);
	CHECK(core_store_check_seal(other, name, b.data, b.len) == -EBADMSG);
	CHECK(core_store_check_seal(key, "0000000000000002.json", b.data,
				    b.len) == -EBADMSG);
	/* sealing again replaces the seal: the same bytes */
	CHECK(core_store_seal(key, name, &b) == 0);
	CHECK_STR(buf_str(&b), "{\"a\":1,\"mac\":\"" SEAL_OF_A1 "\"}\n");
	/* one changed byte, in the body or the seal */
	b.data[5] = '2';
	CHECK(core_store_check_seal(key, name, b.data, b.len) == -EBADMSG);
	b.data[5] = '1';
	b.data[20] = b.data[20] == '0' ? '1' : '0';
	CHECK(core_store_check_seal(key, name, b.data, b.len) == -EBADMSG);
	buf_reset(&b);
	buf_addstr(&b, "[1,2]");
	CHECK(core_store_seal(key, name, &b) == -EINVAL);
	buf_free(&b);
}

struct tdir {
	char dir[64];	/* mkdtemp, 0700 */
	char data[128]; /* dir/data */
	char bait[128]; /* dir/bait: files that must stay untouched */
};

static bool tdir_make(struct tdir *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/gptimgfs-trust-XXXXXX");
	if (!mkdtemp(t->dir))
		return false;
	snprintf(t->data, sizeof(t->data), "%s/data", t->dir);
	snprintf(t->bait, sizeof(t->bait), "%s/bait", t->dir);
	return mkdir(t->bait, 0700) == 0;
}

static void tdir_free(struct tdir *t)
{
	nftw(t->dir, fx_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *dir, const char *file, const char *text)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	CHECK(fd >= 0 && fx_write_at(fd, file, text, strlen(text)) == 0);
	if (fd >= 0)
		close(fd);
}

/* The content of dir/file, or "(missing)". */
static const char *content(const char *dir, const char *file)
{
	static char text[256];
	char path[300];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return "(missing)";
	text[n] = '\0';
	return text;
}

static void link_at(const char *target, const char *dir, const char *name)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK(symlink(target, path) == 0);
}

/* core_store_open must fail with a message holding every needle. */
static void refused(const struct tdir *t, const char *n1, const char *n2)
{
	char err[512] = "";
	struct store s;

	CHECK(core_store_open(&s, t->data, err, sizeof(err)) < 0);
	if (!strstr(err, n1) || !strstr(err, n2))
		fprintf(stderr, "unexpected message: %s\n", err);
	CHECK(strstr(err, n1) && strstr(err, n2));
	CHECK(!strchr(err, '\n'));
}

static bool opens(const struct tdir *t)
{
	char err[512] = "";
	struct store s;

	if (core_store_open(&s, t->data, err, sizeof(err)) < 0) {
		fprintf(stderr, "store_open: %s\n", err);
		return false;
	}
	core_store_close(&s);
	return true;
}

static void test_open_checks(void)
{
	char path[300], want[300];
	struct tdir t;

	if (!tdir_make(&t)) {
		CHECK(0);
		return;
	}
	CHECK(opens(&t));
	CHECK(strcmp(content(t.data, STORE_KEY_FILE), "(missing)") != 0);

	/* the data directory writable by others */
	CHECK(chmod(t.data, 0777) == 0);
	refused(&t, t.data, "writable by group or others (mode 0777)");
	CHECK(chmod(t.data, 0750) == 0);
	CHECK(opens(&t));

	/* a folder of the store that is a symbolic link, or open to others */
	snprintf(path, sizeof(path), "%s/out", t.data);
	CHECK(rmdir(path) == 0);
	link_at(t.bait, t.data, "out");
	snprintf(want, sizeof(want), "%s/out: a symbolic link", t.data);
	refused(&t, want, "real directories");
	CHECK(unlink(path) == 0 && mkdir(path, 0700) == 0);
	snprintf(path, sizeof(path), "%s/tmp", t.data);
	CHECK(chmod(path, 0722) == 0);
	refused(&t, path, "writable by group or others");
	CHECK(chmod(path, 0700) == 0);
	if (geteuid() == 0) {
		CHECK(chown(path, 65534, 65534) == 0);
		refused(&t, path, "owned by uid 65534");
		CHECK(chown(path, 0, 0) == 0);
	}
	CHECK(opens(&t));

	/* a parent writable by others without the sticky bit; with it, fine */
	CHECK(chmod(t.dir, 0777) == 0);
	refused(&t, "above the data directory", "without the sticky bit");
	CHECK(chmod(t.dir, 01777) == 0);
	CHECK(opens(&t));
	CHECK(chmod(t.dir, 0700) == 0);

	/* the key open to others */
	snprintf(path, sizeof(path), "%s/%s", t.data, STORE_KEY_FILE);
	CHECK(chmod(path, 0640) == 0);
	refused(&t, STORE_KEY_FILE, "it must be 0600");
	CHECK(chmod(path, 0600) == 0);

	/* the data directory itself a symbolic link */
	snprintf(path, sizeof(path), "%s/real", t.dir);
	CHECK(rename(t.data, path) == 0);
	CHECK(symlink(path, t.data) == 0);
	refused(&t, t.data, "a symbolic link");
	tdir_free(&t);
}

/* Links planted in the store are entries, never followed: what they point
 * to stays as it was. */
static void test_no_link_followed(void)
{
	char dir[300], sub[300];
	struct buf b;
	struct tdir t;
	struct store s;
	char err[512];
	int fd;

	if (!tdir_make(&t)) {
		CHECK(0);
		return;
	}
	CHECK(opens(&t));
	put(t.bait, "file", "bait");
	snprintf(sub, sizeof(sub), "%s/dir", t.bait);
	CHECK(mkdir(sub, 0700) == 0);
	put(sub, "inner", "inner");

	/* the lock: refused, not truncated */
	snprintf(dir, sizeof(dir), "%s/lock", t.data);
	CHECK(unlink(dir) == 0);
	snprintf(dir, sizeof(dir), "%s/file", t.bait);
	link_at(dir, t.data, "lock");
	refused(&t, "/lock: not a regular file", "not followed");
	CHECK_STR(content(t.bait, "file"), "bait");
	snprintf(dir, sizeof(dir), "%s/lock", t.data);
	CHECK(unlink(dir) == 0);

	/* tmp/: links to a file and to a directory, and a directory */
	snprintf(dir, sizeof(dir), "%s/tmp", t.data);
	snprintf(sub, sizeof(sub), "%s/file", t.bait);
	link_at(sub, dir, "dl-file");
	link_at(t.bait, dir, "dl-dir");
	snprintf(sub, sizeof(sub), "%s/tmp/real", t.data);
	CHECK(mkdir(sub, 0700) == 0);
	put(sub, "kept", "kept");
	/* records/: a leftover temporary that is a link */
	snprintf(dir, sizeof(dir), "%s/records", t.data);
	snprintf(sub, sizeof(sub), "%s/file", t.bait);
	link_at(sub, dir, ".0000000000000001.json.tmp");

	CHECK(core_store_open(&s, t.data, err, sizeof(err)) == 0);
	CHECK_STR(content(t.bait, "file"), "bait");
	snprintf(sub, sizeof(sub), "%s/dir", t.bait);
	CHECK_STR(content(sub, "inner"), "inner");
	snprintf(sub, sizeof(sub), "%s/tmp/real", t.data);
	CHECK_STR(content(sub, "kept"), "kept");
	CHECK(faccessat(s.tmp_fd, "dl-file", F_OK, AT_SYMLINK_NOFOLLOW) < 0);

	/* reading a link or a FIFO: -ELOOP, at once */
	buf_init(&b, 1 << 16);
	snprintf(sub, sizeof(sub), "%s/file", t.bait);
	CHECK(symlinkat(sub, s.records_fd, "0000000000000005.json") == 0);
	CHECK(core_store_read_file(s.records_fd, "0000000000000005.json",
				   1 << 16, &b) == -ELOOP);
	CHECK(mkfifoat(s.records_fd, "0000000000000006.json", 0600) == 0);
	CHECK(core_store_read_file(s.records_fd, "0000000000000006.json",
				   1 << 16, &b) == -ELOOP);
	CHECK(core_store_open_file(s.records_fd, "../lock", O_RDONLY, 0) < 0);

	/* writing where a temporary, or the file itself, is a link */
	CHECK(symlinkat(sub, s.records_fd, ".0000000000000007.json.tmp") == 0);
	CHECK(core_store_write_atomic(s.records_fd, "0000000000000007.json",
				      "{}", 2, true) == 0);
	CHECK(core_store_write_atomic(s.records_fd, "0000000000000005.json",
				      "{}", 2, true) == 0);
	CHECK_STR(content(t.bait, "file"), "bait");
	fd = openat(s.records_fd, "0000000000000005.json",
		    O_RDONLY | O_NOFOLLOW);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	core_store_close(&s);
	tdir_free(&t);
}

/* Download temporaries: new files of the owner's only, in tmp/, named by
 * one component, removed through tmp/'s descriptor. */
static void test_temp_files(void)
{
	char a[64], b[64], path[300];
	struct stat st;
	struct fx f;
	int fa, fb;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	fa = core_tmpfile(f.c, a, sizeof(a));
	fb = core_tmpfile(f.c, b, sizeof(b));
	CHECK(fa >= 0 && fb >= 0);
	CHECK(strncmp(a, "dl-", 3) == 0 && !strchr(a, '/'));
	CHECK(strcmp(a, b) != 0);
	snprintf(path, sizeof(path), "%s/tmp/%s", f.data, a);
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	      (st.st_mode & 07777) == 0600);
	CHECK(fcntl(fa, F_GETFD) & FD_CLOEXEC);
	CHECK(core_store_create_temp(AT_FDCWD, "dl-", a, 8) == -ENAMETOOLONG);
	core_tmp_unlink(f.c, b);
	snprintf(path, sizeof(path), "%s/tmp/%s", f.data, b);
	CHECK(access(path, F_OK) < 0 && errno == ENOENT);
	/* a name that is no temporary's goes nowhere */
	core_tmp_unlink(f.c, "../lock");
	snprintf(path, sizeof(path), "%s/lock", f.data);
	CHECK(access(path, F_OK) == 0);
	CHECK(fx_entries(&f, "tmp") == 1);
	close(fa);
	close(fb);
	fx_close(&f);
}

/* Records and metadata this store did not write, on a restart of the core:
 * none is sent, none serves a file from outside out/. */
static void test_planted(void)
{
	unsigned char foreign[STORE_KEY_LEN];
	char file[64], bait[300], text[1024];
	struct fx f;
	uint64_t s1, s2;
	struct buf b;
	int fd;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	s1 = fx_submit(&f, "cat", "a cat");
	s2 = fx_submit(&f, "dog", "a dog");
	CHECK(s1 && s2);
	core_close(f.c);
	f.c = NULL;
	snprintf(bait, sizeof(bait), "%s/secret", f.dir);
	put(f.dir, "secret", "root only");

	/* cat's record sealed by another store; dog's without a seal, as an
	 * older version wrote it */
	buf_init(&b, 1 << 20);
	snprintf(text, sizeof(text), "%s/records", f.data);
	fd = open(text, O_RDONLY | O_DIRECTORY);
	snprintf(file, sizeof(file), "%016" PRIu64 ".json", s1);
	fill_key(foreign, 7);
	CHECK(core_store_read_file(fd, file, 1 << 20, &b) == 0 &&
	      core_store_seal(foreign, file, &b) == 0 &&
	      fx_write_at(fd, file, b.data, b.len) == 0);
	snprintf(file, sizeof(file), "%016" PRIu64 ".json", s2);
	CHECK(core_store_read_file(fd, file, 1 << 20, &b) == 0);
	b.len -= 75; /* ,"mac":"…"}\n */
	CHECK(buf_addstr(&b, "}\n") == 0 &&
	      fx_write_at(fd, file, b.data, b.len) == 0);
	close(fd);
	buf_free(&b);

	/* in out/: sealed metadata whose image is a link to a secret */
	snprintf(text, sizeof(text), "%s/out", f.data);
	fd = open(text, O_RDONLY | O_DIRECTORY);
	CHECK(symlinkat(bait, fd, "0000000000000640-1.png") == 0);
	put(text, "0000000000000640-1.png.json",
	    "{\"name\":\"leak.png\",\"job\":\"leak\",\"live\":true,\"id\":640,"
	    "\"prompt\":\"p\",\"task_id\":\"t\",\"options\":\"{}\","
	    "\"url\":\"u\",\"completed\":1,\"completed_ns\":0}\n");
	close(fd);
	CHECK(fx_reseal(&f, "out", "0000000000000640-1.png.json"));

	CHECK(fx_core_open(&f));
	core_start(f.c);
	CHECK(f.calls.n_ready == 0);
	snprintf(file, sizeof(file), "records/.%016" PRIu64 ".json.corrupt",
		 s1);
	CHECK(fx_exists(&f, file));
	CHECK(!fx_is_job(&f, "cat"));
	CHECK_STR(fx_first_line(&f, "dog"), "failed");
	CHECK(fx_matches(fx_value(fx_status(&f, "dog"), "error"),
			 "^interrupted: records/[0-9]+\\.json could not be "
			 "verified.*nothing was sent"));
	CHECK(fx_n_outputs(&f) == 0);
	CHECK_STR(content(f.dir, "secret"), "root only");

	/* the failed record is this store's now: it stays failed, unsent */
	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(f.calls.n_ready == 0);
	CHECK_STR(fx_first_line(&f, "dog"), "failed");
	fx_close(&f);
}

/* The way to the data directory: links on it are followed as the kernel
 * would, and each must be root's or the daemon's user's; nothing is made
 * under a folder that is refused; a FIFO as the key does not hang. */
static void test_way_to_the_store(void)
{
	char path[300], want[300];
	struct tdir t;

	if (!tdir_make(&t)) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/real", t.dir);
	CHECK(mkdir(path, 0700) == 0);
	link_at("real/../real", t.dir, "way");
	snprintf(t.data, sizeof(t.data), "%s/way/sub/data", t.dir);
	CHECK(opens(&t));
	CHECK(strcmp(content(path, "sub/data/store.key"), "(missing)") != 0);
	if (geteuid() == 0) {
		snprintf(path, sizeof(path), "%s/way", t.dir);
		CHECK(lchown(path, 65534, 65534) == 0);
		snprintf(want, sizeof(want), "%s (above the data directory",
			 t.dir);
		refused(&t, want, "a symbolic link owned by uid 65534");
		CHECK(lchown(path, 0, 0) == 0);
		CHECK(opens(&t));
	}

	/* refused before anything is made under the folder at fault */
	CHECK(chmod(t.dir, 0777) == 0);
	snprintf(t.data, sizeof(t.data), "%s/new/data", t.dir);
	refused(&t, "above the data directory", "without the sticky bit");
	snprintf(path, sizeof(path), "%s/new", t.dir);
	CHECK(access(path, F_OK) < 0 && errno == ENOENT);
	CHECK(chmod(t.dir, 0700) == 0);

	snprintf(t.data, sizeof(t.data), "%s/data", t.dir);
	CHECK(opens(&t));
	snprintf(path, sizeof(path), "%s/%s", t.data, STORE_KEY_FILE);
	CHECK(unlink(path) == 0 && mkfifo(path, 0600) == 0);
	refused(&t, STORE_KEY_FILE, "not a regular file");
	tdir_free(&t);
}

int main(void)
{
	test_seal();
	test_open_checks();
	test_no_link_followed();
	test_temp_files();
	test_planted();
	test_way_to_the_store();
	return check_result("test_store_trust");
}
