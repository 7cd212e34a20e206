/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stddef.h>
#include <string.h>

#include "bus-errors.h"
#include "bus-polkit.h"
#include "bus-util.h"
#include "fileio.h"
#include "image-dbus.h"
#include "manager.h"
#include "paths.h"
#include "pod-dbus.h"
#include "strv.h"

static int property_get_path(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        _cleanup_free_ char *p = image_tree_path(i->name);

        if (!p)
                return -ENOMEM;
        return sd_bus_message_append(reply, "s", p);
}

static int property_get_format(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        return sd_bus_message_append(reply, "s", image_format_to_string(i->format));
}

static int property_get_storage(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        return sd_bus_message_append(reply, "s", i->manager->storage == STORAGE_BTRFS ? "btrfs" : "directory");
}

static int property_get_pods(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        return sd_bus_message_append(reply, "u", manager_image_users(i->manager, i->name));
}

/* Strings of the image's record: empty if it has none (unverified, not OCI...). */
static int property_get_record_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        static const struct {
                const char *property, *key;
        } map[] = {
                { "Verified",       "verified"        },
                { "KeyId",          "key_id"          },
                { "KeyName",        "key_name"        },
                { "TrustedComment", "trusted_comment" },
                { "Digest",         "digest"          },
        };
        Image *i = userdata;
        const char *v = NULL;

        for (size_t k = 0; k < ELEMENTSOF(map); k++)
                if (streq(map[k].property, property))
                        v = image_record_string(i, map[k].key);
        if (!v && streq(property, "Verified"))
                v = "no";
        return sd_bus_message_append(reply, "s", v ?: "");
}

static int property_get_importing(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        return sd_bus_message_append(reply, "b", (int) i->importing);
}

/* Image.Inspect(): the image's record as JSON, with the pods using it. */
static int bus_image_method_inspect(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        _cleanup_json_ json_t *j = NULL;
        _cleanup_free_ char *text = NULL;

        if (i->importing)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "Image '%s' is still being imported.", i->name);

        j = json_deep_copy(i->record);
        if (!j)
                j = json_object();
        if (!j ||
            json_object_set_new(j, "name", json_string(i->name)) < 0 ||
            json_object_set_new(j, "format", json_string(image_format_to_string(i->format))) < 0 ||
            json_object_set_new(j, "size", json_integer((json_int_t) i->size)) < 0 ||
            json_object_set_new(j, "created_usec", json_integer((json_int_t) i->created_usec)) < 0 ||
            json_object_set_new(j, "pods", json_integer(manager_image_users(i->manager, i->name))) < 0)
                return -ENOMEM;
        if (!json_object_get(j, "verified") && json_object_set_new(j, "verified", json_string("no")) < 0)
                return -ENOMEM;
        /* Every key, null where it does not apply: one shape for every image. */
        static const char *const optional[] = {
                "digest", "source_size", "key_id", "key_name", "trusted_comment", "signed_file",
                "config", "ref_name", "manifest_digest",
        };
        for (size_t k = 0; k < ELEMENTSOF(optional); k++)
                if (!json_object_get(j, optional[k]) && json_object_set_new(j, optional[k], json_null()) < 0)
                        return -ENOMEM;
        text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
        if (!text)
                return -ENOMEM;
        return sd_bus_reply_method_return(m, "s", text);
}

void bus_image_emit_pods_changed(Manager *m, const char *image) {
        Image *i = manager_find_image(m, image);

        if (i)
                (void) sd_bus_emit_properties_changed(m->bus, i->path, PODCTL_IMAGE_INTERFACE, "Pods", NULL);
}

int bus_image_method_remove(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        Manager *manager = i->manager;
        unsigned users;
        int force, r;

        r = sd_bus_message_read(m, "b", &force);
        if (r < 0)
                return r;
        if (i->importing)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "Image '%s' is still being imported.", i->name);

        r = bus_verify_polkit_async(m, "io.podctl.pod1.manage-images",
                                    (const char *[]) { "verb", "remove-image", "image", i->name, NULL },
                                    &manager->polkit, NULL, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again when polkit has answered */

        users = manager_image_users(manager, i->name);
        if (users > 0) {
                if (!force)
                        return sd_bus_error_setf(error, BUS_ERROR_IMAGE_IN_USE, "Image '%s' is in use by %u pod%s.",
                                                 i->name, users, users == 1 ? "" : "s");

                /* With force, the pods go first, but never a running one. */
                for (Pod *p = manager->pods; p; p = p->next)
                        if (pod_config_uses_image(&p->config, i->name) && (pod_is_active(p) || p->jobs))
                                return sd_bus_error_setf(error, BUS_ERROR_IMAGE_IN_USE,
                                                         "Image '%s' is in use by running pod '%s'.", i->name, p->config.name);
                for (Pod *p = manager->pods, *next; p; p = next) {
                        next = p->next;
                        if (pod_config_uses_image(&p->config, i->name)) {
                                r = pod_remove(p);
                                if (r < 0)
                                        return sd_bus_error_set_errnof(error, r, "Failed to remove pod using image '%s': %m", i->name);
                        }
                }
        }

        r = image_remove(i);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to remove image: %m");
        return sd_bus_reply_method_return(m, NULL);
}

const sd_bus_vtable image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(Image, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Path", "s", property_get_path, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Format", "s", property_get_format, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Storage", "s", property_get_storage, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Size", "t", NULL, offsetof(Image, size), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CreatedAt", "t", NULL, offsetof(Image, created_usec), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Pods", "u", property_get_pods, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Verified", "s", property_get_record_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("KeyId", "s", property_get_record_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("KeyName", "s", property_get_record_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TrustedComment", "s", property_get_record_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Digest", "s", property_get_record_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Importing", "b", property_get_importing, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ImportBytesDone", "t", NULL, offsetof(Image, import_bytes_done), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ImportBytesTotal", "t", NULL, offsetof(Image, import_bytes_total), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("Remove", SD_BUS_ARGS("b", force), SD_BUS_NO_RESULT, bus_image_method_remove, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Inspect", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", json), bus_image_method_inspect, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int image_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;
        Image *i;

        if (sd_bus_path_decode(path, PODCTL_BUS_IMAGE_PREFIX, &name) <= 0)
                return 0;
        /* Found while importing too, for the progress properties; not enumerated then. */
        i = manager_find_image(userdata, name);
        if (!i)
                return 0;

        *found = i;
        return 1;
}

int image_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        char **l;
        size_t n = 0;

        l = calloc(m->n_images + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (Image *i = m->images; i; i = i->next) {
                if (i->importing)
                        continue;
                l[n] = strdup(i->path);
                if (!l[n]) {
                        strv_free(l);
                        return -ENOMEM;
                }
                n++;
        }

        *nodes = l;
        return 1;
}
