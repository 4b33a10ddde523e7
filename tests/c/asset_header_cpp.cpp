// The NDK headers compile as C++ (OpenHarmony's native asset code is often C++), may be included
// twice, and live beside ohfile.h.
#include "asset/asset_api.h"
#include "asset/asset_api.h"
#include "asset/asset_type.h"
#include "ohfile.h"

int main() {
  Asset_Blob alias = {5, const_cast<uint8_t *>(reinterpret_cast<const uint8_t *>("alias"))};
  Asset_Attr attr[2];
  attr[0].tag = ASSET_TAG_ALIAS;
  attr[0].value.blob = alias;
  attr[1].tag = ASSET_TAG_RETURN_TYPE;
  attr[1].value.u32 = ASSET_RETURN_ATTRIBUTES;
  Asset_ResultSet resultSet = {0, nullptr};
  int32_t ret = OH_Asset_Query(attr, 2, &resultSet);
  OH_Asset_FreeResultSet(&resultSet);
  Asset_SyncResult sync = {0, 0, 0};
  (void)OH_Asset_QuerySyncResult(nullptr, 0, &sync);
  return (ret == ASSET_SUCCESS && OH_Asset_ParseAttr(nullptr, ASSET_TAG_SECRET) != nullptr) ? 1 : 0;
}
