// The header compiles as C++ and may be included twice.
#include "ohfile.h"
#include "ohfile.h"

int main() {
  ohf_device *dev = nullptr;
  ohf_status st = ohf_device_open(nullptr, &dev);
  (void)st;
  ohf_device_free(dev);
  return ohf_version()[0] == '\0';
}
