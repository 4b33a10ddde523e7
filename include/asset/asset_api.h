/*
 * ohfile: the functions of OpenHarmony's Asset Store Kit NDK (asset/asset_api.h), for Linux.
 *
 * Same names and signatures as the published NDK header; implemented by libohfile. On OpenHarmony
 * the calling app is known to the system; here it is read at each call from the environment:
 *   OHFILE_BUNDLE  the calling app's bundle name (unset or empty: ASSET_BMS_ERROR),
 *   OHFILE_ROOT    the device root (unset: ohfile's default device; missing: ASSET_SERVICE_UNAVAILABLE).
 * ohf_last_error_message() (ohfile.h) tells what went wrong on the calling thread. Each call opens
 * the calling app's store (about half a millisecond); a program that makes many calls and knows its
 * identity can hold an ohf_asset_store (ohfile.h) instead, whose structs have the same layouts.
 *
 * Memory: a challenge from OH_Asset_PreQuery is released with OH_Asset_FreeBlob, a result set from
 * OH_Asset_Query with OH_Asset_FreeResultSet (both zero the bytes before freeing them). Input arrays
 * are only read during the call. Every function may be called from any thread.
 */
#ifndef ASSET_API_H
#define ASSET_API_H

#include <stdint.h>
#include <stdlib.h>

#include "asset_type.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Adds an asset. ASSET_TAG_SECRET and ASSET_TAG_ALIAS are required.
 * Returns ASSET_SUCCESS, or ASSET_INVALID_ARGUMENT (a missing, mistyped, empty, disallowed or
 * out-of-range attribute; more than 64 attributes), ASSET_DUPLICATED (the alias exists and
 * ASSET_TAG_CONFLICT_RESOLUTION is not ASSET_CONFLICT_OVERWRITE), ASSET_STATUS_MISMATCH (the
 * device's lock state or password does not allow it), ASSET_BMS_ERROR, or another Asset_ResultCode.
 */
int32_t OH_Asset_Add(const Asset_Attr *attributes, uint32_t attrCnt);

/**
 * Removes the assets that match `query`.
 * Returns ASSET_SUCCESS, ASSET_NOT_FOUND when none matches, or another Asset_ResultCode.
 */
int32_t OH_Asset_Remove(const Asset_Attr *query, uint32_t queryCnt);

/**
 * Updates the asset that `query` names (ASSET_TAG_ALIAS is required) with `attributesToUpdate`
 * (the secret, normal and local labels). Returns ASSET_SUCCESS, ASSET_NOT_FOUND, or another
 * Asset_ResultCode.
 */
int32_t OH_Asset_Update(const Asset_Attr *query, uint32_t queryCnt,
    const Asset_Attr *attributesToUpdate, uint32_t updateCnt);

/**
 * Starts reading assets that need user authentication (ASSET_AUTH_TYPE_ANY): on success
 * `*challenge` receives a 32-byte challenge to authenticate the user with, released with
 * OH_Asset_FreeBlob. End the session with OH_Asset_PostQuery. At most 16 sessions per app.
 */
int32_t OH_Asset_PreQuery(const Asset_Attr *query, uint32_t queryCnt, Asset_Blob *challenge);

/**
 * Finds the assets that match `query`. On success `*resultSet` receives them (at least one; none
 * is ASSET_NOT_FOUND), released with OH_Asset_FreeResultSet. ASSET_RETURN_ALL (the secret too)
 * needs ASSET_TAG_ALIAS, else ASSET_UNSUPPORTED.
 */
int32_t OH_Asset_Query(const Asset_Attr *query, uint32_t queryCnt, Asset_ResultSet *resultSet);

/** Ends an authentication session: `handle` holds its ASSET_TAG_AUTH_CHALLENGE. */
int32_t OH_Asset_PostQuery(const Asset_Attr *handle, uint32_t handleCnt);

/**
 * How the last sync of the app's assets went (for example a device clone): `query` may hold
 * ASSET_TAG_GROUP_ID and ASSET_TAG_REQUIRE_ATTR_ENCRYPTED to choose the set of assets. With no sync
 * yet, `*syncResult` is {0, 0, 0}. Any invalid argument (also a NULL syncResult) is
 * ASSET_PARAM_VERIFICATION_FAILED.
 */
int32_t OH_Asset_QuerySyncResult(const Asset_Attr *query, uint32_t queryCnt, Asset_SyncResult *syncResult);

/**
 * The attribute `tag` of one asset of a query result, or NULL when it has none (or `result` is
 * NULL). The pointer is into the result: do not free it; it lives as long as the result set.
 */
Asset_Attr *OH_Asset_ParseAttr(const Asset_Result *result, Asset_Tag tag);

/** Releases a challenge from OH_Asset_PreQuery and empties `*blob`. NULL is a no-op. */
void OH_Asset_FreeBlob(Asset_Blob *blob);

/** Releases a result set from OH_Asset_Query and empties `*resultSet`. NULL is a no-op. */
void OH_Asset_FreeResultSet(Asset_ResultSet *resultSet);

#ifdef __cplusplus
}
#endif

#endif /* ASSET_API_H */
