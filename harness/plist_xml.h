/* Writes an entitlement tree as an XML property list, the way Apple's tools print one. */
#ifndef SH_PLIST_XML_H
#define SH_PLIST_XML_H

#include <stdio.h>

#include "entitlements.h"

/* A whole document: XML declaration, DOCTYPE, <plist version="1.0"> and the root value, with
 * tab indentation.  Data is base64, dates ISO 8601 UTC. */
void sh_plist_write_xml(const sh_ent_node *root, FILE *out);

/* The same document in a malloc'ed NUL-terminated string (NULL when out of memory). */
char *sh_plist_xml_string(const sh_ent_node *root);

#endif
