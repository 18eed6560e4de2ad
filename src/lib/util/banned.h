/* SPDX-License-Identifier: MIT */
/*
 * util/banned.h: functions we never use (unbounded or not thread-safe). Use
 * snprintf, gmtime_r, localtime_r and zc_parse_u32 instead.
 */
#ifndef ZC_UTIL_BANNED_H
#define ZC_UTIL_BANNED_H

#define ZC_BANNED(func) sorry_##func##_is_banned

#undef strcpy
#define strcpy(x, y) ZC_BANNED(strcpy)
#undef strcat
#define strcat(x, y) ZC_BANNED(strcat)
#undef sprintf
#define sprintf(...) ZC_BANNED(sprintf)
#undef strtok
#define strtok(x, y) ZC_BANNED(strtok)
#undef gmtime
#define gmtime(x) ZC_BANNED(gmtime)
#undef localtime
#define localtime(x) ZC_BANNED(localtime)
#undef atoi
#define atoi(x) ZC_BANNED(atoi)

#endif
