// The system libqrencode (Debian: libqrencode-dev), seen by Swift through the WAHA simulator only.
#ifndef WHAGO_CQRENCODE_SHIM_H
#define WHAGO_CQRENCODE_SHIM_H

#include <qrencode.h>

#endif
