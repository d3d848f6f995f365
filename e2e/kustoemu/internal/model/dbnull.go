package model

// DBNull is the null that a management command's result carries where Kusto itself sends null
// even in a string column, e.g. the Policy column of `.show table T policy streamingingestion`
// when no policy is set. A nil string is the empty string everywhere else ("strings are never
// null"), so this distinct value is needed to put a JSON null on the wire. FormatJSON renders it
// as null and FormatText as "". Queries never produce it.
var DBNull any = dbNull{}

type dbNull struct{}
