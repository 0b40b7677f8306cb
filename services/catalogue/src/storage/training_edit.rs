//! Third migration: `training_edit`, what each edit of a programme changed, field by field
//! with the values before and after. The audit log names the edited fields only; a reviewer
//! reading a corrected programme needs what it said before. No account is kept here (the
//! audit log says who, to staff): only whether the provider, staff or an import edited.

use super::JsonText;
use cafeia_catalogue_api::{Editor, FieldChange};
use sea_orm::entity::prelude::*;

pub use migration::CreateTrainingEdit;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "training_edit")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub training_id: Uuid,
    pub at: DateTimeUtc,
    pub edited_by: Editor,
    #[sea_orm(column_type = "Text")]
    pub changes: JsonText<Vec<FieldChange>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::training::Entity",
        from = "Column::TrainingId",
        to = "super::training::Column::Id",
        on_delete = "Cascade"
    )]
    Training,
}

impl Related<super::training::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Training.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

mod migration {
    use cafeia_platform::db::columns::{index, short, text, timestamp};
    use sea_orm_migration::prelude::*;

    pub struct CreateTrainingEdit;

    impl MigrationName for CreateTrainingEdit {
        fn name(&self) -> &str {
            "m20270401_000103_catalogue_training_edit"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CreateTrainingEdit {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.create_table(
                Table::create()
                    .table(Alias::new("training_edit"))
                    .col(
                        ColumnDef::new(Alias::new("id"))
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Alias::new("training_id")).uuid().not_null())
                    .col(timestamp("at"))
                    .col(short("edited_by", 20))
                    .col(text("changes"))
                    // Part of its programme, as places and sessions are.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_edit_training")
                            .from(Alias::new("training_edit"), Alias::new("training_id"))
                            .to(Alias::new("training"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
            m.create_index(index(
                "training_edit",
                "idx_edit_training",
                &["training_id"],
            ))
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.drop_table(Table::drop().table(Alias::new("training_edit")).to_owned())
                .await
        }
    }
}
