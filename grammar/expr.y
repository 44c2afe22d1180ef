// expr.y: the grammar of gradc's .expr language (Bison, C++ lalr1 skeleton).
// Actions are one call each; checks live in C++ (ParseDriver, sema).
%require "3.8"
%language "c++"
%skeleton "lalr1.cc"
%header
%define api.namespace {gradc::yy}
%define api.parser.class {Parser}
%define api.token.constructor
%define api.value.type variant
%define api.token.prefix {TOK_}
%define parse.error custom
%define parse.assert
%locations

%code requires {
#include "frontend/Ast.h"
#include "frontend/ParseDriver.h"
#include <string>
#include <vector>
typedef void *yyscan_t;
}

%parse-param {yyscan_t scanner} {gradc::ParseDriver &drv}
%lex-param {yyscan_t scanner} {gradc::ParseDriver &drv}

%code {
gradc::yy::Parser::symbol_type yylex(yyscan_t scanner, gradc::ParseDriver &drv);
static gradc::SourceLoc at(const gradc::yy::location &l) {
  return {static_cast<uint32_t>(l.begin.line), static_cast<uint32_t>(l.begin.column)};
}
using gradc::ExprKind;
}

%token END 0 "end of file"
%token DEF "'def'" DIM "'dim'" RETURN "'return'" CONST "'const'" LOCAL "'local'"
%token <gradc::DType> DTYPE "type name"
%token <std::string> IDENT "name" NUMBER "number"
%token NEWLINE "end of line"
%token PLUS "'+'" MINUS "'-'" STAR "'*'" SLASH "'/'" CARET "'^'" AT "'@'"
%token LT "'<'" LE "'<='" GT "'>'" GE "'>='" EQEQ "'=='" NE "'!='"
%token ASSIGN "'='" LPAREN "'('" RPAREN "')'" LBRACK "'['" RBRACK "']'"
%token LBRACE "'{'" RBRACE "'}'" COMMA "','" COLON "':'" DOT "'.'"

%type <gradc::ExprId> expr arith term unary power postfix primary arg index_item opt_expr
%type <std::vector<gradc::ExprId>> args args_opt index_items exprs
%type <std::vector<gradc::DimDecl>> dim_names
%type <gradc::ParamDecl> param param_type type_spec
%type <std::vector<gradc::ParamDecl>> params params_opt
%type <std::vector<gradc::DimRef>> shape dim_refs
%type <gradc::DimRef> dim_ref
%type <gradc::Stmt> stmt
%type <std::vector<gradc::Stmt>> stmts
%type <gradc::FuncDef> item_def

%start program

%%

// program: item (NEWLINE item)* NEWLINE?
program: %empty | items nl_opt ;
items: item | items NEWLINE item ;
nl_opt: %empty | NEWLINE ;

// item: 'dim' names | 'dim' name '=' size | 'local'? 'def' name '(' params ')' ('=' expr | '{' stmts '}')
item
  : DIM dim_names { drv.addDims($2); }
  | DIM IDENT "'='" arith { drv.addDims({{at(@2), $2, $4}}); }
  // After a syntax error the parser skips to the end of the line and goes on, so that every
  // syntax error of the file is reported; the program is not checked further.
  | LOCAL item_def { $2.isLocal = true; drv.addFunc(std::move($2)); }
  | item_def { drv.addFunc(std::move($1)); }
  | error {}
  ;
// def name '(' params ')' ('=' expr | '{' stmts '}')
item_def
  : DEF IDENT "'('" params_opt "')'" "'='" expr
      { $$ = {at(@2), at(@7), $2, $4, {{gradc::Stmt::Return, at(@7), "", $7}}, false}; }
  | DEF IDENT "'('" params_opt "')'" "'{'" stmts nl_opt "'}'"
      { $$ = {at(@2), at(@9), $2, $4, $7, true}; }
  ;

dim_names
  : IDENT { $$.push_back({at(@1), $1}); }
  | dim_names "','" IDENT { $$ = std::move($1); $$.push_back({at(@3), $3}); }
  ;

params_opt: %empty {} | params { $$ = std::move($1); } ;
params
  : param { $$.push_back(std::move($1)); }
  | params "','" param { $$ = std::move($1); $$.push_back(std::move($3)); }
  ;
// param: name (':' 'const'? type? shape?)?
param
  : IDENT { $$.loc = at(@1); $$.name = $1; }
  | IDENT "':'" param_type { $$ = std::move($3); $$.loc = at(@1); $$.name = $1; }
  ;
param_type
  : CONST { $$.isConst = true; }
  | CONST type_spec { $$ = std::move($2); $$.isConst = true; }
  | type_spec { $$ = std::move($1); }
  ;
type_spec
  : DTYPE { $$.dtype = $1; }
  | DTYPE shape { $$.dtype = $1; $$.hasShape = true; $$.shape = std::move($2); }
  | shape { $$.hasShape = true; $$.shape = std::move($1); }
  ;
shape: "'['" "']'" {} | "'['" dim_refs "']'" { $$ = std::move($2); } ;
dim_refs
  : dim_ref { $$.push_back(std::move($1)); }
  | dim_refs "','" dim_ref { $$ = std::move($1); $$.push_back(std::move($3)); }
  ;
// A shape entry is a literal, a dim's name or dim arithmetic (`D*(D+1)/2`), sorted out by
// dimRef (one rule for all three: a name is also the start of an expression).
dim_ref: arith { $$ = drv.dimRef(at(@1), $1); } ;

stmts
  : stmt { $$.push_back(std::move($1)); }
  | stmts NEWLINE stmt { $$ = std::move($1); $$.push_back(std::move($3)); }
  ;
stmt
  : IDENT "'='" expr { $$ = {gradc::Stmt::Assign, at(@1), $1, $3}; }
  | RETURN expr { $$ = {gradc::Stmt::Return, at(@1), "", $2}; }
  | error { $$ = {gradc::Stmt::Assign, at(@1), "", gradc::kNoExpr}; } // skipped to the line's end
  ;

// Precedence, loosest first: comparison < + - < * / @ < unary - < ^ < postfix.
// '^' is right-associative and binds tighter than unary minus: -x^2 is -(x^2).
expr
  : arith
  | arith "'<'" arith { $$ = drv.ast.add(ExprKind::Compare, at(@2), "<", {$1, $3}); }
  | arith "'<='" arith { $$ = drv.ast.add(ExprKind::Compare, at(@2), "<=", {$1, $3}); }
  | arith "'>'" arith { $$ = drv.ast.add(ExprKind::Compare, at(@2), ">", {$1, $3}); }
  | arith "'>='" arith { $$ = drv.ast.add(ExprKind::Compare, at(@2), ">=", {$1, $3}); }
  | arith "'=='" arith { $$ = drv.ast.add(ExprKind::Compare, at(@2), "==", {$1, $3}); }
  | arith "'!='" arith { $$ = drv.ast.add(ExprKind::Compare, at(@2), "!=", {$1, $3}); }
  ;
arith
  : term
  | arith "'+'" term { $$ = drv.ast.add(ExprKind::Binary, at(@2), "+", {$1, $3}); }
  | arith "'-'" term { $$ = drv.ast.add(ExprKind::Binary, at(@2), "-", {$1, $3}); }
  ;
term
  : unary
  | term "'*'" unary { $$ = drv.ast.add(ExprKind::Binary, at(@2), "*", {$1, $3}); }
  | term "'/'" unary { $$ = drv.ast.add(ExprKind::Binary, at(@2), "/", {$1, $3}); }
  | term "'@'" unary { $$ = drv.ast.add(ExprKind::Binary, at(@2), "@", {$1, $3}); }
  ;
unary
  : power
  | "'-'" unary { $$ = drv.ast.add(ExprKind::Neg, at(@1), "", {$2}); }
  ;
power
  : postfix
  | postfix "'^'" unary { $$ = drv.ast.add(ExprKind::Binary, at(@2), "^", {$1, $3}); }
  ;
postfix
  : primary
  | postfix "'['" index_items "']'" { $$ = drv.indexExpr(at(@2), $1, $3); }
  | postfix "'.'" IDENT { $$ = drv.ast.add(ExprKind::Attr, at(@3), $3, {$1}); }
  ;
primary
  : NUMBER { $$ = drv.number(at(@1), $1); }
  | IDENT { $$ = drv.ast.add(ExprKind::Name, at(@1), $1); }
  | IDENT "'('" args_opt "')'" { $$ = drv.ast.add(ExprKind::Call, at(@1), $1, $3); }
  | "'('" expr "')'" { $$ = $2; }
  | "'['" exprs "']'" { $$ = drv.ast.add(ExprKind::List, at(@1), "", $2); }
  ;
exprs
  : expr { $$.push_back($1); }
  | exprs "','" expr { $$ = std::move($1); $$.push_back($3); }
  ;
args_opt: %empty {} | args { $$ = std::move($1); } ;
args
  : arg { $$.push_back($1); }
  | args "','" arg { $$ = std::move($1); $$.push_back($3); }
  ;
arg
  : expr
  | IDENT "'='" expr { $$ = drv.ast.add(ExprKind::KwArg, at(@1), $1, {$3}); }
  ;
index_items
  : index_item { $$.push_back($1); }
  | index_items "','" index_item { $$ = std::move($1); $$.push_back($3); }
  ;
// index_item: expr | expr? ':' expr?
index_item
  : expr
  | opt_expr "':'" opt_expr { $$ = drv.ast.add(ExprKind::Slice, at(@2), "", {$1, $3}); }
  ;
opt_expr: %empty { $$ = gradc::kNoExpr; } | expr ;

%%

void gradc::yy::Parser::error(const location_type &loc, const std::string &msg) {
  drv.syntaxError(at(loc), msg, false);
}

void gradc::yy::Parser::report_syntax_error(const context &ctx) const {
  symbol_kind_type tok = ctx.token();
  std::string msg;
  if (tok == symbol_kind::S_YYUNDEF) {
    // The scanner already reported an invalid token.
    drv.syntaxError(at(ctx.location()), "", false);
    return;
  }
  msg = std::string("unexpected ") + symbol_name(tok);
  int n = ctx.expected_tokens(nullptr, 0);
  std::vector<symbol_kind_type> expected(static_cast<size_t>(n));
  if (n > 0)
    ctx.expected_tokens(expected.data(), n);
  bool wantsExpr = false;
  for (symbol_kind_type k : expected)
    wantsExpr = wantsExpr || k == symbol_kind::S_NUMBER;
  if (wantsExpr) {
    msg += ", expected an expression";
  } else if (n > 0 && n <= 4) {
    msg += ", expected ";
    for (int i = 0; i < n; ++i) {
      if (i > 0)
        msg += (i + 1 == n) ? " or " : ", ";
      msg += symbol_name(expected[static_cast<size_t>(i)]);
    }
  }
  drv.syntaxError(at(ctx.location()), msg, tok == symbol_kind::S_YYEOF);
}
