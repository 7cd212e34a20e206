/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct Manager Manager;

typedef enum ImageFormat {
        IMAGE_FORMAT_TAR,
        IMAGE_FORMAT_DIRECTORY,
        _IMAGE_FORMAT_MAX,
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

        /* Set while the import runs: the image is not listed and not usable yet. */
        bool importing;
        char *tmp_name;         /* hidden directory the import extracts into */
        pid_t import_pid;
        int import_result_fd;   /* child reports size or error here */
        sd_event_source *import_child;
        sd_bus_message *import_call;

        struct Image *next;
} Image;

int image_load(Manager *m, const char *name, Image **ret);
Image *image_free(Image *i);

/* Starts extracting the archive read from fd; answers call when done. */
int image_import_start(Manager *m, const char *name, ImageFormat format, int fd, sd_bus_message *call, sd_bus_error *error);
int image_remove(Image *i);

/* Absolute path of the image's tree. */
char *image_tree_path(const char *name);
