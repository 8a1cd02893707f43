// The system libyaml (Debian: libyaml-dev), seen by Swift through YAMLConfig only.
#ifndef WHAGO_CYAML_SHIM_H
#define WHAGO_CYAML_SHIM_H

#include <yaml.h>

/// The anchor of a scalar, sequence-start or mapping-start event, or NULL.
static inline const char *whago_yaml_event_anchor(const yaml_event_t *event) {
    switch (event->type) {
    case YAML_SCALAR_EVENT: return (const char *)event->data.scalar.anchor;
    case YAML_SEQUENCE_START_EVENT: return (const char *)event->data.sequence_start.anchor;
    case YAML_MAPPING_START_EVENT: return (const char *)event->data.mapping_start.anchor;
    default: return NULL;
    }
}

/// The anchor an alias event refers to.
static inline const char *whago_yaml_alias_anchor(const yaml_event_t *event) {
    return (const char *)event->data.alias.anchor;
}

/// The explicit tag of a scalar, sequence-start or mapping-start event, or NULL.
static inline const char *whago_yaml_event_tag(const yaml_event_t *event) {
    switch (event->type) {
    case YAML_SCALAR_EVENT: return (const char *)event->data.scalar.tag;
    case YAML_SEQUENCE_START_EVENT: return (const char *)event->data.sequence_start.tag;
    case YAML_MAPPING_START_EVENT: return (const char *)event->data.mapping_start.tag;
    default: return NULL;
    }
}

#endif
