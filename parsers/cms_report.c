/* Names and codesign-style text for a CMS verification report. */
#include "cms.h"

#include <inttypes.h>
#include <stdio.h>

const char *sh_cms_stage_name(sh_cms_stage stage)
{
    switch (stage) {
    case SH_CMS_STAGE_NONE: return "none";
    case SH_CMS_STAGE_PRESENCE: return "presence";
    case SH_CMS_STAGE_SIGNATURE: return "signature";
    case SH_CMS_STAGE_TIMESTAMP: return "timestamp";
    case SH_CMS_STAGE_CDHASHES: return "CDHashes";
    case SH_CMS_STAGE_CDHASHES2: return "CDHashes2";
    case SH_CMS_STAGE_CHAIN: return "chain";
    case SH_CMS_STAGE_TEAM: return "team";
    case SH_CMS_STAGE_TIMESTAMP_POLICY: return "timestamp policy";
    case SH_CMS_STAGE_EXPIRATION: return "expiration";
    }
    return "unknown";
}

sh_cms_time_kind sh_cms_report_time_kind(const sh_cms_report *report)
{
    if (report->has_timestamp && report->timestamp_valid)
        return SH_CMS_TIME_KIND_TIMESTAMP;
    if (report->has_signing_time)
        return SH_CMS_TIME_KIND_SIGNED_TIME;
    return SH_CMS_TIME_KIND_NONE;
}

/* Civil date of a day count since 1970-01-01 (Howard Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* "Mar 12, 2023 at 11:28:41 PM": CFDateFormatter's medium date and time styles in en_US. */
static void format_codesign_date(int64_t t, char *buf, size_t size)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);
    unsigned hour = (unsigned)(secs / 3600), minute = (unsigned)(secs / 60 % 60),
             second = (unsigned)(secs % 60);
    unsigned hour12 = hour % 12 == 0 ? 12 : hour % 12;
    snprintf(buf, size, "%s %u, %" PRId64 " at %u:%02u:%02u %s", months[month - 1], day, year,
             hour12, minute, second, hour < 12 ? "AM" : "PM");
}

void sh_cms_time_line(const sh_cms_report *report, char *buf, size_t size)
{
    if (size == 0)
        return;
    char date[64];
    switch (sh_cms_report_time_kind(report)) {
    case SH_CMS_TIME_KIND_TIMESTAMP:
        format_codesign_date(report->timestamp_time, date, sizeof date);
        snprintf(buf, size, "Timestamp=%s", date);
        return;
    case SH_CMS_TIME_KIND_SIGNED_TIME:
        format_codesign_date(report->signing_time, date, sizeof date);
        snprintf(buf, size, "Signed Time=%s", date);
        return;
    case SH_CMS_TIME_KIND_NONE: break;
    }
    buf[0] = '\0';
}
