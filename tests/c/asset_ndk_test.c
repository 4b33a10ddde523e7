/* The asset store through OpenHarmony's asset NDK: a C program written as for OpenHarmony
 * (#include "asset/asset_api.h", OH_Asset_* calls, Asset_* structs), compiled against ohfile's
 * include/asset/ headers and linked with libohfile. Only main's set-up is ohfile's: a sample device
 * ($OHFILE_ROOT) and the calling app ($OHFILE_BUNDLE), which OpenHarmony knows by itself; and the
 * auth token of the ANY flow comes from ohfile's stand-in for the user-auth service (ohfile.h).
 * Built with -std=c99 -Wall -Wextra -Werror. */
#define _POSIX_C_SOURCE 200809L
#include "asset/asset_api.h"
#include "ohfile.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_files.h"

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__, \
              __LINE__, #cond, ohf_last_error_message());                      \
      failures++;                                                              \
    }                                                                          \
  } while (0)
#define CHECK_EQ(got, want)                                                    \
  do {                                                                         \
    long long g_ = (long long)(got), w_ = (long long)(want);                   \
    if (g_ != w_) {                                                            \
      fprintf(stderr, "%s:%d: %s is %lld, expected %lld (last error: %s)\n",   \
              __FILE__, __LINE__, #got, g_, w_, ohf_last_error_message());     \
      failures++;                                                              \
    }                                                                          \
  } while (0)

#define COUNT(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

static Asset_Blob blob_of(const char *s) {
  Asset_Blob b = {(uint32_t)strlen(s), (uint8_t *)s};
  return b;
}

static int blob_is(const Asset_Attr *attr, const char *s) {
  return attr != NULL && attr->value.blob.size == strlen(s) &&
         memcmp(attr->value.blob.data, s, strlen(s)) == 0;
}

/* ---- the app's code, as the asset NDK guide writes it ---- */

static int32_t AddAsset(const char *alias, const char *secret, const char *label, uint32_t syncType) {
  Asset_Blob secretBlob = blob_of(secret);
  Asset_Blob aliasBlob = blob_of(alias);
  Asset_Blob labelBlob = blob_of(label);
  Asset_Attr attr[] = {
      {.tag = ASSET_TAG_ACCESSIBILITY, .value.u32 = ASSET_ACCESSIBILITY_DEVICE_FIRST_UNLOCKED},
      {.tag = ASSET_TAG_SECRET, .value.blob = secretBlob},
      {.tag = ASSET_TAG_ALIAS, .value.blob = aliasBlob},
      {.tag = ASSET_TAG_DATA_LABEL_NORMAL_1, .value.blob = labelBlob},
      {.tag = ASSET_TAG_SYNC_TYPE, .value.u32 = syncType},
  };
  return OH_Asset_Add(attr, COUNT(attr));
}

/* The plaintext of one asset; `out` gets a copy (NUL-terminated). */
static int32_t QueryPlaintext(const char *alias, char *out, size_t outSize) {
  Asset_Blob aliasBlob = blob_of(alias);
  Asset_Attr attr[] = {
      {.tag = ASSET_TAG_ALIAS, .value.blob = aliasBlob},
      {.tag = ASSET_TAG_RETURN_TYPE, .value.u32 = ASSET_RETURN_ALL},
  };
  Asset_ResultSet resultSet = {0};
  int32_t ret = OH_Asset_Query(attr, COUNT(attr), &resultSet);
  out[0] = 0;
  if (ret == ASSET_SUCCESS) {
    for (uint32_t i = 0; i < resultSet.count; i++) {
      Asset_Attr *secret = OH_Asset_ParseAttr(resultSet.results + i, ASSET_TAG_SECRET);
      if (secret != NULL && secret->value.blob.size < outSize) {
        memcpy(out, secret->value.blob.data, secret->value.blob.size);
        out[secret->value.blob.size] = 0;
      }
    }
  }
  OH_Asset_FreeResultSet(&resultSet);
  return ret;
}

static int32_t UpdateAsset(const char *alias, const char *secret, const char *label) {
  Asset_Blob aliasBlob = blob_of(alias);
  Asset_Blob newSecret = blob_of(secret);
  Asset_Blob newLabel = blob_of(label);
  Asset_Attr query[] = {{.tag = ASSET_TAG_ALIAS, .value.blob = aliasBlob}};
  Asset_Attr attributesToUpdate[] = {
      {.tag = ASSET_TAG_SECRET, .value.blob = newSecret},
      {.tag = ASSET_TAG_DATA_LABEL_NORMAL_1, .value.blob = newLabel},
  };
  return OH_Asset_Update(query, COUNT(query), attributesToUpdate, COUNT(attributesToUpdate));
}

static int32_t RemoveAsset(const char *alias) {
  Asset_Blob aliasBlob = blob_of(alias);
  Asset_Attr attr[] = {{.tag = ASSET_TAG_ALIAS, .value.blob = aliasBlob}};
  return OH_Asset_Remove(attr, COUNT(attr));
}

/* ---- checks ---- */

static void test_layouts(void) {
  /* The hand-written NDK header and ohfile.h (generated from the library) agree. */
  CHECK_EQ(sizeof(Asset_Blob), sizeof(ohf_asset_blob));
  CHECK_EQ(offsetof(Asset_Blob, data), offsetof(ohf_asset_blob, data));
  CHECK_EQ(sizeof(Asset_Value), sizeof(ohf_asset_value));
  CHECK_EQ(sizeof(Asset_Attr), sizeof(ohf_asset_attr));
  CHECK_EQ(offsetof(Asset_Attr, value), offsetof(ohf_asset_attr, value));
  CHECK_EQ(sizeof(Asset_Result), sizeof(ohf_asset_result));
  CHECK_EQ(offsetof(Asset_Result, attrs), offsetof(ohf_asset_result, attrs));
  CHECK_EQ(sizeof(Asset_ResultSet), sizeof(ohf_asset_result_set));
  CHECK_EQ(offsetof(Asset_ResultSet, results), offsetof(ohf_asset_result_set, results));
  CHECK_EQ(sizeof(Asset_SyncResult), sizeof(ohf_asset_sync_result));
  CHECK_EQ(offsetof(Asset_SyncResult, failedCount), offsetof(ohf_asset_sync_result, failed_count));
  /* The numbers of the published header. */
  CHECK_EQ(ASSET_TAG_SECRET, 0x30000001);
  CHECK_EQ(ASSET_TAG_ACCESSIBILITY, 0x20000003);
  CHECK_EQ(ASSET_TAG_REQUIRE_PASSWORD_SET, 0x10000004);
  CHECK_EQ(ASSET_TAG_DATA_LABEL_NORMAL_LOCAL_4, 0x30000037);
  CHECK_EQ(ASSET_TAG_UPDATE_TIME, 0x30000045);
  CHECK_EQ(ASSET_TAG_REQUIRE_ATTR_ENCRYPTED, 0x10000047);
  CHECK_EQ(ASSET_TAG_GROUP_ID, 0x30000048);
  CHECK_EQ(ASSET_TAG_WRAP_TYPE, 0x20000049);
  CHECK_EQ(ASSET_TAG_SECRET & ASSET_TAG_TYPE_MASK, ASSET_TYPE_BYTES);
  CHECK_EQ(ASSET_PARAM_VERIFICATION_FAILED, 24000018);
  CHECK_EQ(ASSET_AUTH_TYPE_ANY, 0xFF);
  CHECK_EQ(ASSET_SYNC_TYPE_TRUSTED_ACCOUNT, 4);
  CHECK_EQ(ASSET_WRAP_TYPE_TRUSTED_ACCOUNT, 1);
  /* The library's statuses are the same numbers. */
  CHECK_EQ(OHF_STATUS_ASSET_NOT_FOUND, ASSET_NOT_FOUND);
  CHECK_EQ(OHF_STATUS_ASSET_PARAM_VERIFICATION_FAILED, ASSET_PARAM_VERIFICATION_FAILED);
}

static void test_life_cycle(void) {
  char secret[64];
  CHECK_EQ(AddAsset("demo_alias", "demo_pwd", "demo_label", ASSET_SYNC_TYPE_TRUSTED_DEVICE), ASSET_SUCCESS);
  CHECK_EQ(AddAsset("demo_alias", "other", "x", ASSET_SYNC_TYPE_NEVER), ASSET_DUPLICATED);
  CHECK_EQ(AddAsset("second_alias", "pwd2", "demo_label", ASSET_SYNC_TYPE_NEVER), ASSET_SUCCESS);

  CHECK_EQ(QueryPlaintext("demo_alias", secret, sizeof secret), ASSET_SUCCESS);
  CHECK(strcmp(secret, "demo_pwd") == 0);

  /* Attributes of every asset with the label, sorted by it, at most 10. */
  Asset_Blob label = blob_of("demo_label");
  Asset_Attr batch[] = {
      {.tag = ASSET_TAG_RETURN_TYPE, .value.u32 = ASSET_RETURN_ATTRIBUTES},
      {.tag = ASSET_TAG_DATA_LABEL_NORMAL_1, .value.blob = label},
      {.tag = ASSET_TAG_RETURN_LIMIT, .value.u32 = 10},
      {.tag = ASSET_TAG_RETURN_ORDERED_BY, .value.u32 = ASSET_TAG_DATA_LABEL_NORMAL_1},
  };
  Asset_ResultSet resultSet = {0};
  CHECK_EQ(OH_Asset_Query(batch, COUNT(batch), &resultSet), ASSET_SUCCESS);
  CHECK_EQ(resultSet.count, 2);
  int seen_demo = 0, seen_second = 0;
  for (uint32_t i = 0; i < resultSet.count; i++) {
    Asset_Attr *alias = OH_Asset_ParseAttr(resultSet.results + i, ASSET_TAG_ALIAS);
    seen_demo |= blob_is(alias, "demo_alias");
    seen_second |= blob_is(alias, "second_alias");
    CHECK(OH_Asset_ParseAttr(resultSet.results + i, ASSET_TAG_SECRET) == NULL); /* attributes only */
    Asset_Attr *sync = OH_Asset_ParseAttr(resultSet.results + i, ASSET_TAG_SYNC_TYPE);
    CHECK(sync != NULL);
    if (sync != NULL && blob_is(alias, "demo_alias")) CHECK_EQ(sync->value.u32, ASSET_SYNC_TYPE_TRUSTED_DEVICE);
    Asset_Attr *time = OH_Asset_ParseAttr(resultSet.results + i, ASSET_TAG_UPDATE_TIME);
    CHECK(time != NULL && time->value.blob.size >= 13); /* ASCII milliseconds */
  }
  CHECK(seen_demo && seen_second);
  OH_Asset_FreeResultSet(&resultSet);
  CHECK(resultSet.results == NULL && resultSet.count == 0);
  OH_Asset_FreeResultSet(&resultSet); /* twice: a no-op */
  OH_Asset_FreeResultSet(NULL);

  CHECK_EQ(UpdateAsset("demo_alias", "demo_pwd_new", "demo_label_new"), ASSET_SUCCESS);
  CHECK_EQ(QueryPlaintext("demo_alias", secret, sizeof secret), ASSET_SUCCESS);
  CHECK(strcmp(secret, "demo_pwd_new") == 0);
  CHECK_EQ(UpdateAsset("no_such_alias", "x", "y"), ASSET_NOT_FOUND);

  CHECK_EQ(RemoveAsset("demo_alias"), ASSET_SUCCESS);
  CHECK_EQ(QueryPlaintext("demo_alias", secret, sizeof secret), ASSET_NOT_FOUND);
  CHECK_EQ(RemoveAsset("demo_alias"), ASSET_NOT_FOUND);
  CHECK_EQ(RemoveAsset("second_alias"), ASSET_SUCCESS);
}

static void test_overwrite(void) {
  char secret[64];
  Asset_Blob alias = blob_of("ow_alias");
  Asset_Blob first = blob_of("first");
  Asset_Blob second = blob_of("second");
  Asset_Attr add1[] = {
      {.tag = ASSET_TAG_SECRET, .value.blob = first},
      {.tag = ASSET_TAG_ALIAS, .value.blob = alias},
  };
  Asset_Attr add2[] = {
      {.tag = ASSET_TAG_SECRET, .value.blob = second},
      {.tag = ASSET_TAG_ALIAS, .value.blob = alias},
      {.tag = ASSET_TAG_CONFLICT_RESOLUTION, .value.u32 = ASSET_CONFLICT_OVERWRITE},
  };
  CHECK_EQ(OH_Asset_Add(add1, COUNT(add1)), ASSET_SUCCESS);
  CHECK_EQ(OH_Asset_Add(add2, COUNT(add2)), ASSET_SUCCESS);
  CHECK_EQ(QueryPlaintext("ow_alias", secret, sizeof secret), ASSET_SUCCESS);
  CHECK(strcmp(secret, "second") == 0);
  CHECK_EQ(RemoveAsset("ow_alias"), ASSET_SUCCESS);
}

static void test_invalid_arguments(void) {
  Asset_Blob alias = blob_of("bad_alias");
  Asset_Blob empty = {0, NULL};
  Asset_Attr no_secret[] = {{.tag = ASSET_TAG_ALIAS, .value.blob = alias}};
  CHECK_EQ(OH_Asset_Add(no_secret, COUNT(no_secret)), ASSET_INVALID_ARGUMENT);
  Asset_Attr empty_secret[] = {
      {.tag = ASSET_TAG_SECRET, .value.blob = empty},
      {.tag = ASSET_TAG_ALIAS, .value.blob = alias},
  };
  CHECK_EQ(OH_Asset_Add(empty_secret, COUNT(empty_secret)), ASSET_INVALID_ARGUMENT);
  static uint8_t big[1025];
  memset(big, 'x', sizeof big);
  Asset_Blob too_long = {1025, big};
  Asset_Blob longest = {1024, big};
  Asset_Attr long_secret[] = {
      {.tag = ASSET_TAG_SECRET, .value.blob = too_long},
      {.tag = ASSET_TAG_ALIAS, .value.blob = alias},
  };
  CHECK_EQ(OH_Asset_Add(long_secret, COUNT(long_secret)), ASSET_INVALID_ARGUMENT);
  long_secret[0].value.blob = longest;
  CHECK_EQ(OH_Asset_Add(long_secret, COUNT(long_secret)), ASSET_SUCCESS);
  CHECK_EQ(RemoveAsset("bad_alias"), ASSET_SUCCESS);
  Asset_Attr bad_sync[] = {
      {.tag = ASSET_TAG_SECRET, .value.blob = longest},
      {.tag = ASSET_TAG_ALIAS, .value.blob = alias},
      {.tag = ASSET_TAG_SYNC_TYPE, .value.u32 = 8},
  };
  CHECK_EQ(OH_Asset_Add(bad_sync, COUNT(bad_sync)), ASSET_INVALID_ARGUMENT);
  Asset_Attr no_type[] = {{.tag = 0x40000002u, .value.u32 = 1}};
  CHECK_EQ(OH_Asset_Remove(no_type, COUNT(no_type)), ASSET_INVALID_ARGUMENT);
  CHECK_EQ(OH_Asset_Add(NULL, 2), ASSET_INVALID_ARGUMENT);
  Asset_Attr query[] = {{.tag = ASSET_TAG_ALIAS, .value.blob = alias}};
  CHECK_EQ(OH_Asset_Query(query, COUNT(query), NULL), ASSET_INVALID_ARGUMENT);
  /* RETURN_TYPE ALL needs an alias. */
  Asset_Attr all[] = {{.tag = ASSET_TAG_RETURN_TYPE, .value.u32 = ASSET_RETURN_ALL}};
  Asset_ResultSet rs = {0};
  CHECK_EQ(AddAsset("one", "s1", "l", ASSET_SYNC_TYPE_NEVER), ASSET_SUCCESS);
  CHECK_EQ(OH_Asset_Query(all, COUNT(all), &rs), ASSET_UNSUPPORTED);
  CHECK(rs.results == NULL);
  CHECK_EQ(RemoveAsset("one"), ASSET_SUCCESS);
}

static void test_sync_result(void) {
  Asset_SyncResult syncResult = {0};
  syncResult.resultCode = -1;
  CHECK_EQ(OH_Asset_QuerySyncResult(NULL, 0, &syncResult), ASSET_SUCCESS);
  CHECK_EQ(syncResult.resultCode, 0);
  CHECK_EQ(syncResult.totalCount, 0);
  CHECK_EQ(syncResult.failedCount, 0);
  Asset_Attr encrypted[] = {{.tag = ASSET_TAG_REQUIRE_ATTR_ENCRYPTED, .value.boolean = true}};
  CHECK_EQ(OH_Asset_QuerySyncResult(encrypted, COUNT(encrypted), &syncResult), ASSET_SUCCESS);
  /* Tags it does not take, wrong types and a NULL result: 24000018, never 401. */
  Asset_Blob alias = blob_of("demo_alias");
  Asset_Attr wrong[] = {{.tag = ASSET_TAG_ALIAS, .value.blob = alias}};
  CHECK_EQ(OH_Asset_QuerySyncResult(wrong, COUNT(wrong), &syncResult), ASSET_PARAM_VERIFICATION_FAILED);
  Asset_Attr no_type[] = {{.tag = 0x00000047u, .value.boolean = true}};
  CHECK_EQ(OH_Asset_QuerySyncResult(no_type, COUNT(no_type), &syncResult), ASSET_PARAM_VERIFICATION_FAILED);
  Asset_Blob short_group = blob_of("abc");
  Asset_Attr bad_group[] = {{.tag = ASSET_TAG_GROUP_ID, .value.blob = short_group}};
  CHECK_EQ(OH_Asset_QuerySyncResult(bad_group, COUNT(bad_group), &syncResult), ASSET_PARAM_VERIFICATION_FAILED);
  CHECK_EQ(OH_Asset_QuerySyncResult(NULL, 0, NULL), ASSET_PARAM_VERIFICATION_FAILED);
  CHECK_EQ(OH_Asset_QuerySyncResult(NULL, 1, &syncResult), ASSET_PARAM_VERIFICATION_FAILED);
}

/* AuthType ANY: preQuery → user authentication → query with challenge and token → postQuery. */
static void test_user_auth(const char *root, const char *bundle) {
  Asset_Blob secret = blob_of("auth_pwd");
  Asset_Blob alias = blob_of("auth_alias");
  Asset_Attr attr[] = {
      {.tag = ASSET_TAG_SECRET, .value.blob = secret},
      {.tag = ASSET_TAG_ALIAS, .value.blob = alias},
      {.tag = ASSET_TAG_AUTH_TYPE, .value.u32 = ASSET_AUTH_TYPE_ANY},
  };
  CHECK_EQ(OH_Asset_Add(attr, COUNT(attr)), ASSET_SUCCESS);

  Asset_Attr pre[] = {
      {.tag = ASSET_TAG_ALIAS, .value.blob = alias},
      {.tag = ASSET_TAG_AUTH_TYPE, .value.u32 = ASSET_AUTH_TYPE_ANY},
  };
  Asset_Blob challenge = {0};
  CHECK_EQ(OH_Asset_PreQuery(pre, COUNT(pre), &challenge), ASSET_SUCCESS);
  CHECK_EQ(challenge.size, 32);

  /* The user authenticates (on OpenHarmony: the user-auth service; here ohfile's stand-in). */
  ohf_device *dev = NULL;
  ohf_asset_store *store = NULL;
  ohf_asset_blob token = {0, NULL};
  CHECK_EQ(ohf_device_open(root, &dev), OHF_STATUS_OK);
  CHECK_EQ(ohf_asset_store_open(dev, bundle, &store), OHF_STATUS_OK);
  CHECK_EQ(ohf_asset_authenticate_user(store, challenge.data, challenge.size, &token), OHF_STATUS_OK);
  CHECK(token.size > 0 && token.data != NULL);

  Asset_Blob tokenBlob = {token.size, token.data};
  Asset_Attr query[] = {
      {.tag = ASSET_TAG_ALIAS, .value.blob = alias},
      {.tag = ASSET_TAG_AUTH_CHALLENGE, .value.blob = challenge},
      {.tag = ASSET_TAG_AUTH_TOKEN, .value.blob = tokenBlob},
      {.tag = ASSET_TAG_RETURN_TYPE, .value.u32 = ASSET_RETURN_ALL},
  };
  Asset_ResultSet resultSet = {0};
  CHECK_EQ(OH_Asset_Query(query, COUNT(query), &resultSet), ASSET_SUCCESS);
  CHECK_EQ(resultSet.count, 1);
  if (resultSet.count == 1) CHECK(blob_is(OH_Asset_ParseAttr(resultSet.results, ASSET_TAG_SECRET), "auth_pwd"));
  OH_Asset_FreeResultSet(&resultSet);

  /* Without the token: access denied or an argument error, never the secret. */
  Asset_Attr no_token[] = {
      {.tag = ASSET_TAG_ALIAS, .value.blob = alias},
      {.tag = ASSET_TAG_RETURN_TYPE, .value.u32 = ASSET_RETURN_ALL},
  };
  int32_t denied = OH_Asset_Query(no_token, COUNT(no_token), &resultSet);
  CHECK(denied == ASSET_ACCESS_DENIED || denied == ASSET_INVALID_ARGUMENT);
  CHECK(resultSet.results == NULL);

  Asset_Attr handle[] = {{.tag = ASSET_TAG_AUTH_CHALLENGE, .value.blob = challenge}};
  CHECK_EQ(OH_Asset_PostQuery(handle, COUNT(handle)), ASSET_SUCCESS);
  CHECK_EQ(OH_Asset_PostQuery(NULL, 0), ASSET_INVALID_ARGUMENT); /* AUTH_CHALLENGE is required */
  /* No token for a session that postQuery closed, nor for a value no preQuery issued. */
  ohf_asset_blob none = {0, NULL};
  CHECK_EQ(ohf_asset_authenticate_user(store, challenge.data, challenge.size, &none), ASSET_ACCESS_DENIED);
  uint8_t made_up[32] = {1, 2, 3};
  CHECK_EQ(ohf_asset_authenticate_user(store, made_up, sizeof made_up, &none), ASSET_ACCESS_DENIED);
  CHECK(none.data == NULL && none.size == 0);
  OH_Asset_FreeBlob(&challenge);
  CHECK(challenge.data == NULL && challenge.size == 0);
  OH_Asset_FreeBlob(NULL);
  ohf_asset_blob_free(&token);
  CHECK(token.data == NULL);
  ohf_asset_store_free(store);
  ohf_device_free(dev);
  CHECK_EQ(RemoveAsset("auth_alias"), ASSET_SUCCESS);
}

/* The ohf_ functions: an explicit device and owner, so one process can serve two apps. */
static void test_explicit_store(const char *root) {
  ohf_device *dev = NULL;
  ohf_asset_store *a = NULL, *b = NULL;
  CHECK_EQ(ohf_device_open(root, &dev), OHF_STATUS_OK);
  CHECK_EQ(ohf_asset_store_open(dev, "com.example.a", &a), OHF_STATUS_OK);
  CHECK_EQ(ohf_asset_store_open(dev, "com.example.b", &b), OHF_STATUS_OK);
  CHECK_EQ(ohf_asset_store_open(dev, "../escape", &b), ASSET_INVALID_ARGUMENT);
  CHECK_EQ(ohf_asset_store_open(dev, NULL, &b), ASSET_INVALID_ARGUMENT);
  ohf_asset_attr add[] = {
      {.tag = ASSET_TAG_SECRET, .value.blob = {3, (uint8_t *)"sa1"}},
      {.tag = ASSET_TAG_ALIAS, .value.blob = {5, (uint8_t *)"alias"}},
      {.tag = ASSET_TAG_REQUIRE_PASSWORD_SET, .value.boolean = false},
  };
  CHECK_EQ(ohf_asset_add(a, add, COUNT(add)), OHF_STATUS_OK);
  ohf_asset_attr query[] = {
      {.tag = ASSET_TAG_ALIAS, .value.blob = {5, (uint8_t *)"alias"}},
      {.tag = ASSET_TAG_RETURN_TYPE, .value.u32 = ASSET_RETURN_ALL},
  };
  ohf_asset_result_set set = {0, NULL};
  CHECK_EQ(ohf_asset_query(b, query, COUNT(query), &set), OHF_STATUS_ASSET_NOT_FOUND); /* b's store is its own */
  CHECK_EQ(ohf_asset_query(a, query, COUNT(query), &set), OHF_STATUS_OK);
  CHECK_EQ(set.count, 1);
  if (set.count == 1) {
    const ohf_asset_attr *s = ohf_asset_result_find(&set.results[0], ASSET_TAG_SECRET);
    CHECK(s != NULL && s->value.blob.size == 3 && memcmp(s->value.blob.data, "sa1", 3) == 0);
    const ohf_asset_attr *pw = ohf_asset_result_find(&set.results[0], ASSET_TAG_REQUIRE_PASSWORD_SET);
    CHECK(pw != NULL && !pw->value.boolean);
  }
  ohf_asset_result_set_free(&set);
  ohf_asset_sync_result sr = {-1, 9, 9};
  CHECK_EQ(ohf_asset_query_sync_result(a, NULL, 0, &sr), OHF_STATUS_OK);
  CHECK(sr.result_code == 0 && sr.total_count == 0 && sr.failed_count == 0);
  CHECK_EQ(ohf_asset_query_sync_result(NULL, NULL, 0, &sr), ASSET_PARAM_VERIFICATION_FAILED);
  CHECK_EQ(ohf_asset_remove(a, query, 1), OHF_STATUS_OK);
  CHECK_EQ(ohf_asset_add(NULL, add, COUNT(add)), ASSET_INVALID_ARGUMENT);
  ohf_asset_store_free(a);
  ohf_asset_store_free(b);
  ohf_asset_store_free(NULL);
  ohf_device_free(dev);
}

int main(void) {
  char root[] = "/tmp/ohfile-asset-ndk-XXXXXX";
  char path[PATH_SIZE];
  if (!mkdtemp(root)) { perror("mkdtemp"); return 2; }
  pathf(path, "%s/device.json", root);
  const char *device = "{\"deviceType\": \"phone\", \"lockScreenPasswordSet\": true}";
  write_file(path, device, strlen(device));
  pathf(path, "%s/apps/com.example.notes", root);
  mkdirs(path);
  pathf(path, "%s/apps/com.example.notes/bundle.json", root);
  const char *bundle = "{\"versionCode\": 1, \"versionName\": \"1.0\"}";
  write_file(path, bundle, strlen(bundle));

  test_layouts();

  /* Before the system names the caller: the bundle manager cannot tell who calls. */
  unsetenv("OHFILE_BUNDLE");
  setenv("OHFILE_ROOT", root, 1);
  CHECK_EQ(AddAsset("a", "b", "c", 0), ASSET_BMS_ERROR);
  CHECK(strstr(ohf_last_error_message(), "OHFILE_BUNDLE") != NULL);
  Asset_SyncResult sr = {0};
  CHECK_EQ(OH_Asset_QuerySyncResult(NULL, 0, &sr), ASSET_BMS_ERROR);
  pathf(path, "%s/missing", root);
  setenv("OHFILE_ROOT", path, 1);
  setenv("OHFILE_BUNDLE", "com.example.notes", 1);
  CHECK_EQ(AddAsset("a", "b", "c", 0), ASSET_SERVICE_UNAVAILABLE);
  setenv("OHFILE_ROOT", root, 1);

  test_life_cycle();
  test_overwrite();
  test_invalid_arguments();
  test_sync_result();
  test_user_auth(root, "com.example.notes");
  test_explicit_store(root);

  remove_tree(root);
  if (failures) {
    fprintf(stderr, "asset_ndk_test: %d check(s) failed\n", failures);
    return 1;
  }
  printf("asset_ndk_test: ok\n");
  return 0;
}
