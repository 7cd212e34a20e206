/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The Manager's methods on the admin's trust store (trust-store.h): the minisign public keys
 * in TRUST_STORE_ETC_DIR and TRUST_STORE_VENDOR_DIR that image signatures are checked against. */
int bus_manager_method_add_trusted_key(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_manager_method_list_trusted_keys(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_manager_method_remove_trusted_key(sd_bus_message *message, void *userdata, sd_bus_error *error);
