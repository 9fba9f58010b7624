// kiln's version and the plugin ABI number every plugin is checked against.
#pragma once

/// kiln's release as one number: major * 10000 + minor * 100 + patch.
#define KILN_VERSION 100
#define KILN_VERSION_STRING "0.1.0"

/// Bumped on any change that breaks plugins built against an earlier SDK: a changed
/// interface, struct layout or the handshake itself. The host refuses a plugin whose
/// value differs from its own.
#define KILN_SDK_ABI 4

/// Marks SDK types and functions that cross the plugin boundary (everything else builds
/// with hidden visibility).
#define KILN_API __attribute__((visibility("default")))
