/* test_statcache.c - stat cache records and the racy rule (core/statcache.c). */
#include "af.h"
#include "hash.h"
#include "statcache.h"
#include "test.h"

#include <fcntl.h>
#include <time.h>

static char *dir;

/* The path of `name` in this run's directory; valid until the next call. */
static const char *path_of(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

static void write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	T_CHECK(f != NULL);
	if (!f)
		return;
	fputs(content, f);
	fclose(f);
}

/* Wait out the coarse clock's tick, so that what was written is settled. */
static void next_tick(void)
{
	struct timespec res, ts;

	clock_getres(CLOCK_REALTIME_COARSE, &res);
	ts = (struct timespec){0, res.tv_nsec * 2 + 1000000};
	nanosleep(&ts, NULL);
}

/* A record of `path` as file_part makes one: stat'ed, then hashed. */
static af_stat_record record_of(const char *path)
{
	af_stat_record rec = {0};

	T_EQ_INT(AF_OK, af_statcache_stat(&rec, path));
	T_EQ_INT(AF_OK, af_statcache_hash(&rec, path));
	return rec;
}

/* What stat() says of `path` now. */
static af_stat_record now_of(const char *path)
{
	af_stat_record now = {0};

	T_EQ_INT(AF_OK, af_statcache_stat(&now, path));
	return now;
}

static af_stat_record sample(void)
{
	af_stat_record rec = {1234, 1700000000123456789, 1700000000223456789, 42,
			      1700000001000000000, ""};

	af_hash("content", 7, rec.hash);
	return rec;
}

static void test_round_trip(void)
{
	af_stat_record rec = sample(), back;
	unsigned char enc[AF_STATCACHE_RECORD_SIZE];

	af_statcache_encode(enc, &rec);
	T_EQ_INT(AF_OK, af_statcache_decode(&back, enc, sizeof enc));
	T_EQ_INT(rec.size, back.size);
	T_EQ_INT(rec.mtime_ns, back.mtime_ns);
	T_EQ_INT(rec.ctime_ns, back.ctime_ns);
	T_EQ_INT(rec.ino, back.ino);
	T_EQ_INT(rec.recorded_ns, back.recorded_ns);
	T_EQ_STR(rec.hash, back.hash);
}

/* The bytes are the layout stores already hold (see statcache.h). */
static void test_layout(void)
{
	af_stat_record rec = sample();
	unsigned char enc[AF_STATCACHE_RECORD_SIZE], want[AF_STATCACHE_RECORD_SIZE] = {0};

	memcpy(want, &rec.size, 8);
	memcpy(want + 8, &rec.mtime_ns, 8);
	memcpy(want + 16, &rec.ctime_ns, 8);
	memcpy(want + 24, &rec.ino, 8);
	memcpy(want + 32, &rec.recorded_ns, 8);
	memcpy(want + 40, rec.hash, AF_HASH_HEX);
	af_statcache_encode(enc, &rec);
	T_EQ_INT(80, AF_STATCACHE_RECORD_SIZE);
	T_CHECK(memcmp(enc, want, sizeof enc) == 0);
}

static void test_damaged_rejected(void)
{
	af_stat_record rec = sample(), back;
	unsigned char enc[AF_STATCACHE_RECORD_SIZE + 1] = {0};

	af_statcache_encode(enc, &rec);
	T_EQ_INT(AF_EINVAL, af_statcache_decode(&back, enc, AF_STATCACHE_RECORD_SIZE - 1));
	T_EQ_INT(0, back.size);
	T_CHECK(!af_statcache_trusted(&back, &rec));
	T_EQ_INT(AF_EINVAL, af_statcache_decode(&back, enc, AF_STATCACHE_RECORD_SIZE + 1));
	T_EQ_INT(AF_EINVAL, af_statcache_decode(&back, enc, 0));
	enc[40 + 5] = 'X';
	T_EQ_INT(AF_EINVAL, af_statcache_decode(&back, enc, AF_STATCACHE_RECORD_SIZE));
	af_statcache_encode(enc, &rec);
	enc[40 + 32] = '0'; /* the hash's NUL */
	T_EQ_INT(AF_EINVAL, af_statcache_decode(&back, enc, AF_STATCACHE_RECORD_SIZE));
}

static void test_settled_trusted(void)
{
	const char *path = path_of("settled.txt");
	af_stat_record rec, now;
	char hex[AF_HASH_HEX];

	write_file(path, "settled\n");
	next_tick();
	rec = record_of(path);
	now = now_of(path);
	T_CHECK(af_statcache_trusted(&rec, &now));
	T_EQ_INT(AF_OK, af_hash_file(path, hex));
	T_EQ_STR(hex, rec.hash);
}

/*
 * A record made in the tick the file was last written in: a second write in
 * that tick would keep the file's times, so the record vouches for nothing.
 */
static void test_racy_not_trusted(void)
{
	const char *path = path_of("racy.txt");
	af_stat_record rec, now;

	write_file(path, "racy\n");
	next_tick();
	rec = record_of(path);
	now = now_of(path);
	rec.recorded_ns = rec.mtime_ns;
	T_CHECK(!af_statcache_trusted(&rec, &now));
	rec = record_of(path);
	rec.recorded_ns = rec.ctime_ns;
	T_CHECK(!af_statcache_trusted(&rec, &now));
	rec.recorded_ns = rec.ctime_ns - 1;
	T_CHECK(!af_statcache_trusted(&rec, &now));
}

/* Written and recorded without waiting: trusted only if the tick moved on between. */
static void test_fresh_write(void)
{
	const char *path = path_of("fresh.txt");
	af_stat_record rec, now;

	write_file(path, "fresh\n");
	rec = record_of(path);
	now = now_of(path);
	T_EQ_INT(rec.mtime_ns < rec.recorded_ns && rec.ctime_ns < rec.recorded_ns,
		 af_statcache_trusted(&rec, &now));
}

/* An edit in place, same size, its mtime put back: the ctime gives it away. */
static void test_mtime_restored(void)
{
	const char *path = path_of("edited.txt");
	af_stat_record rec, now;
	struct timespec times[2];

	write_file(path, "before\n");
	next_tick();
	rec = record_of(path);
	next_tick();
	write_file(path, "after!\n");
	times[0] = times[1] = (struct timespec){rec.mtime_ns / 1000000000, rec.mtime_ns % 1000000000};
	T_EQ_INT(0, utimensat(AT_FDCWD, path, times, 0));
	now = now_of(path);
	T_EQ_INT(rec.size, now.size);
	T_EQ_INT(rec.mtime_ns, now.mtime_ns);
	T_EQ_INT(rec.ino, now.ino);
	T_CHECK(rec.ctime_ns != now.ctime_ns);
	T_CHECK(!af_statcache_trusted(&rec, &now));
}

/* Each of size, mtime, ctime and inode that differs alone ends the trust. */
static void test_each_field(void)
{
	const char *path = path_of("fields.txt");
	af_stat_record rec, now, changed;

	write_file(path, "fields\n");
	next_tick();
	rec = record_of(path);
	now = now_of(path);
	T_CHECK(af_statcache_trusted(&rec, &now));
	changed = now;
	changed.size++;
	T_CHECK(!af_statcache_trusted(&rec, &changed));
	changed = now;
	changed.ino++;
	T_CHECK(!af_statcache_trusted(&rec, &changed));
	changed = now;
	changed.mtime_ns--;
	T_CHECK(!af_statcache_trusted(&rec, &changed));
	changed = now;
	changed.ctime_ns--;
	T_CHECK(!af_statcache_trusted(&rec, &changed));
}

/* Another file renamed over it, with the same size and times: a new inode. */
static void test_replaced_not_trusted(void)
{
	af_stat_record rec, now;
	struct timespec times[2];
	char path[4096], other[4096];

	snprintf(path, sizeof path, "%s", path_of("replaced.txt"));
	snprintf(other, sizeof other, "%s", path_of("replacement.txt"));
	write_file(path, "one\n");
	write_file(other, "two\n");
	next_tick();
	rec = record_of(path);
	times[0] = times[1] = (struct timespec){rec.mtime_ns / 1000000000, rec.mtime_ns % 1000000000};
	T_EQ_INT(0, utimensat(AT_FDCWD, other, times, 0));
	T_EQ_INT(0, rename(other, path));
	now = now_of(path);
	T_EQ_INT(rec.size, now.size);
	T_CHECK(rec.ino != now.ino);
	T_CHECK(!af_statcache_trusted(&rec, &now));
	write_file(path, "three\n");
	now = now_of(path);
	T_CHECK(rec.size != now.size);
	T_CHECK(!af_statcache_trusted(&rec, &now));
}

static void test_missing_reported(void)
{
	af_stat_record rec = {0};
	char under[4096];

	T_EQ_INT(AF_ENOTFOUND, af_statcache_stat(&rec, path_of("nothing.txt")));
	write_file(path_of("plain.txt"), "x");
	snprintf(under, sizeof under, "%s/below", path_of("plain.txt"));
	T_EQ_INT(AF_ENOTFOUND, af_statcache_stat(&rec, under));
	T_EQ_INT(AF_EINVAL, af_statcache_stat(&rec, dir));
	T_EQ_INT(AF_ENOTFOUND, af_statcache_hash(&rec, path_of("nothing.txt")));
}

int main(void)
{
	dir = t_tmpdir("statcache");
	T_RUN(test_round_trip);
	T_RUN(test_layout);
	T_RUN(test_damaged_rejected);
	T_RUN(test_settled_trusted);
	T_RUN(test_racy_not_trusted);
	T_RUN(test_fresh_write);
	T_RUN(test_mtime_restored);
	T_RUN(test_each_field);
	T_RUN(test_replaced_not_trusted);
	T_RUN(test_missing_reported);
	free(dir);
	return t_done();
}
