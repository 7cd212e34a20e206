/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct Manager Manager;

typedef enum ImageFormat {
        IMAGE_FORMAT_TAR,            /* plain or compressed */
        IMAGE_FORMAT_DIRECTORY,      /* a tree, which the client sends as a tar stream */
        IMAGE_FORMAT_OCI,            /* an OCI image layout, as a tar or a directory */
        IMAGE_FORMAT_DOCKER_ARCHIVE, /* docker save */
        IMAGE_FORMAT_SQUASHFS,
        IMAGE_FORMAT_EROFS,
        IMAGE_FORMAT_RAW,            /* a file system image or a GPT/MBR disk image */
        _IMAGE_FORMAT_MAX,
        IMAGE_FORMAT_AUTO = _IMAGE_FORMAT_MAX, /* detect it: only as a request */
        _IMAGE_FORMAT_INVALID = -22,
} ImageFormat;

const char *image_format_to_string(ImageFormat f);
ImageFormat image_format_from_string(const char *s);

typedef struct Image {
        Manager *manager;
        char *name;
        char *path;       /* our object path */
        ImageFormat format;
        uint64_t size;
        uint64_t created_usec;
        json_t *record;         /* the image's record (image-meta/NAME.json): verification, OCI config... */

        /* Set while the import runs: the image is not listed and not usable yet; its object
         * exists, for the progress properties. */
        bool importing;
        char *tmp_name;         /* hidden directory the import extracts into */
        char *work_name;        /* hidden directory of the staged source */
        pid_t import_pid;
        int import_result_fd;   /* child reports success or error here */
        int import_progress_fd; /* and bytes read here */
        sd_event_source *import_child;
        sd_event_source *import_progress;
        sd_bus_message *import_call;
        uint64_t import_bytes_done;
        uint64_t import_bytes_total; /* 0 if unknown (a pipe) */

        struct Image *next;
} Image;

int image_load(Manager *m, const char *name, Image **ret);
Image *image_free(Image *i);

typedef struct ImportOptions ImportOptions;

/* Starts importing what fd yields (see import.h); answers call when done. */
int image_import_start(Manager *m, const char *name, const ImportOptions *o, int fd, sd_bus_message *call, sd_bus_error *error);
int image_remove(Image *i);

/* A string of the image's record, or NULL. */
const char *image_record_string(const Image *i, const char *key);

/* Absolute path of the image's tree. */
char *image_tree_path(const char *name);
